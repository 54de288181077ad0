"""Publishing: model cards (card data + family templates), an offline card/folder validator, builds, and push."""

from .card import CardFields, render_card, write_card
from .validate import check_card, check_folder, folder_problems, validate_card

__all__ = ["CardFields", "check_card", "check_folder", "folder_problems", "render_card", "validate_card", "write_card"]
