"""The family registry: `Family` records, what they refuse, the Auto-class registration, and `import compactbert`
staying light while `AutoModel.from_pretrained(<a compactbert folder>)` works in every import order."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from transformers import AutoConfig, BertConfig, BertTokenizer

import compactbert
from compactbert.models import FAMILIES, Family, get_family, list_families, register_auto_classes, register_family

from support.helpers import VOCAB, make_tokenizer

OWN_NAMES = {
    "STRATEGIES",
    "PruneTarget",
    "albert_from_bert",
    "layer_contributions",
    "list_families",
    "prune",
    "save_model",
    "select_layers",
    "shrink",
}


# ---------------------------------------------------------------- records


def test_the_three_families_are_registered_from_their_folders():
    assert list_families() == sorted(FAMILIES) and {"shrunk_bert", "tiny_bert", "albert_sop"} <= set(FAMILIES)
    for model_type, family in FAMILIES.items():
        assert family.model_type == model_type and family.package == f"compactbert.models.{model_type}"
        assert (family.folder / f"modeling_{model_type}.py").is_file()
        assert family.card_template == f"{model_type}.md" and family.card_tags
        assert get_family(model_type) is family
    with pytest.raises(ValueError, match="unknown compactbert family 'bert'; registered: albert_sop, shrunk_bert"):
        get_family("bert")


def test_compactbert_exports_its_own_names_and_every_familys():
    names = set(compactbert.__all__)
    assert OWN_NAMES <= names
    family_names = [n for f in FAMILIES.values() for n in f.public_names()]
    assert len(family_names) == len(set(family_names)) and set(family_names) <= names
    assert names == OWN_NAMES | set(family_names)
    assert not [n for n in names if n.isupper() and n != "STRATEGIES"]  # AUTO_CLASSES & co stay in their family
    assert "AUTO_CLASSES" in FAMILIES["tiny_bert"].exports()
    for name in names:
        assert getattr(compactbert, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'NotAModel'"):
        compactbert.NotAModel  # noqa: B018


def test_the_same_record_twice_is_a_no_op_and_another_is_refused():
    family = FAMILIES["tiny_bert"]
    assert register_family(family) is family
    with pytest.raises(ValueError, match="model_type 'tiny_bert' is already registered by compactbert"):
        register_family(Family(model_type="tiny_bert", package=family.package, title="Other", method="other"))
    with pytest.raises(TypeError, match="takes a Family record"):
        register_family(family.config_class())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model_type": "Tiny-Bert", "package": "x.Tiny-Bert"}, "must be a lower-case Python identifier"),
        ({"model_type": "tiny_bert", "package": "plugins.tinybert"}, "its folder must be named after its model_type"),
        ({"card_tags": "distillation"}, "card_tags must be a tuple of tags"),
    ],
)
def test_a_record_refuses_what_cannot_be_a_family(fields, message):
    with pytest.raises(ValueError, match=message):
        Family(**({"model_type": "plug", "package": "plugins.plug", "title": "Plug", "method": "m"} | fields))


def write_plugin(root, model_type: str, config_all: str, modeling: str = "__all__ = []\n") -> Family:
    package = root / model_type
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / f"configuration_{model_type}.py").write_text(config_all)
    (package / f"modeling_{model_type}.py").write_text(modeling)
    return Family(model_type=model_type, package=model_type, title=model_type, method="a plugin")


def test_a_family_exporting_another_familys_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    family = write_plugin(tmp_path, "copycat", '__all__ = ["TinyBertConfig", "COPYCAT_TABLE"]\n')
    assert family.public_names() == {"TinyBertConfig": "copycat.configuration_copycat"}  # tables are not exported
    with pytest.raises(ValueError, match=r"exports \['TinyBertConfig'\], which family 'tiny_bert' exports too"):
        register_family(family)
    assert "copycat" not in FAMILIES
    nameless = write_plugin(tmp_path, "nameless", "class NamelessConfig: ...\n")
    with pytest.raises(ValueError, match="must define `__all__` as a literal list of names"):
        nameless.exports()


PLUGIN_CONFIG = """
from transformers import BertConfig

class PluginBertConfig(BertConfig):
    model_type = "plugin_bert"

__all__ = ["PluginBertConfig"]
"""
PLUGIN_MODELING = """
from transformers import BertModel
from .configuration_plugin_bert import PluginBertConfig

class PluginBertModel(BertModel):
    config_class = PluginBertConfig

AUTO_CLASSES = {"AutoModel": PluginBertModel}
__all__ = ["AUTO_CLASSES", "PluginBertModel"]
"""


def test_a_family_registered_later_is_registered_with_the_auto_classes_at_once(tmp_path, monkeypatch):
    """A plugin: its folder, then one `register_family` call; `AutoModel` knows it from then on."""
    from transformers import AutoModel

    monkeypatch.syspath_prepend(str(tmp_path))
    family = write_plugin(tmp_path, "plugin_bert", PLUGIN_CONFIG, PLUGIN_MODELING)
    try:
        register_family(family)
        tiny = dict(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=1, num_attention_heads=2)
        config = AutoConfig.for_model("plugin_bert", **tiny)
        assert type(config).__name__ == "PluginBertConfig"
        assert type(AutoModel.from_config(config)).__name__ == "PluginBertModel"
    finally:
        FAMILIES.pop("plugin_bert", None)


# ---------------------------------------------------------------- the Auto-class registration


def test_auto_class_registration_refuses_clashes_and_accepts_the_same_classes_twice():
    family = FAMILIES["shrunk_bert"]
    config_class, auto_classes = family.config_class(), family.auto_classes()
    register_auto_classes(config_class, dict(auto_classes), tokenizer_class=BertTokenizer)  # a no-op

    class Imposter(config_class):
        pass

    with pytest.raises(ValueError, match="already registered by compactbert with ShrunkBertConfig"):
        register_auto_classes(Imposter, {})

    class BertAgain(BertConfig):
        model_type = "bert"

    with pytest.raises(ValueError, match="already used by BertConfig"):
        register_auto_classes(BertAgain, {})


# ---------------------------------------------------------------- import compactbert: light, and Auto classes work


@pytest.fixture(scope="module")
def saved_folders(tmp_path_factory) -> list[str]:
    """A tiny classifier of every family, saved with a tokenizer that names no tokenizer class of its own."""
    root, folders = tmp_path_factory.mktemp("families"), []
    tiny = dict(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8)
    for model_type, family in FAMILIES.items():
        torch.manual_seed(0)
        model = family.auto_classes()["AutoModelForSequenceClassification"](family.config_class()(**tiny))
        folders.append(str(compactbert.save_model(model, root / model_type, tokenizer=make_tokenizer())))
    return folders


LOAD = """
args = sys.argv[1:]
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

for folder in args:
    config = AutoConfig.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    base = AutoModel.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    for loaded in (config, model, base):
        assert type(loaded).__module__.startswith("compactbert.models."), type(loaded)
    assert model(**tokenizer(["the movie was good"], return_tensors="pt")).logits.shape == (1, 2)
assert not [f for f in sys.meta_path if type(f).__module__ == "compactbert.models.auto_registration"]
print("loaded", len(args))
"""


LIGHT = """
import compactbert
heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
assert not heavy, f"import compactbert imported {heavy}"
assert "ShrunkBertModel" in compactbert.__all__ and "ShrunkBertModel" in dir(compactbert)
"""
# what runs before the Auto classes load the folders, in a fresh process each (all started at once: they take seconds)
IMPORT_ORDERS = {
    "compactbert-first": LIGHT,  # `import compactbert` stays light; the Auto module comes after it
    "transformers-first": "import transformers; from transformers import AutoModel; import compactbert",
    # the Auto module is imported from inside modeling_bert's own import: the families register after it finished
    "bert-model-first": "import compactbert; from transformers import BertModel",
    "compactbert-class-first": "from compactbert import ShrunkBertModel",
}


@pytest.fixture(scope="module")
def import_orders(saved_folders) -> dict[str, subprocess.Popen]:
    return {
        name: subprocess.Popen(
            [sys.executable, "-c", f"import sys\n{first}\n{LOAD}", *saved_folders],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"HF_HUB_OFFLINE": "1"},
        )  # fmt: skip
        for name, first in IMPORT_ORDERS.items()
    }


@pytest.mark.parametrize("order", IMPORT_ORDERS)
def test_auto_classes_know_the_families_in_any_import_order(import_orders, order, saved_folders):
    out, err = import_orders[order].communicate(timeout=300)
    assert import_orders[order].returncode == 0, err[-3000:]
    assert out.strip() == f"loaded {len(saved_folders)}"
