"""What the tests share: tiny random models and tokenizers (`helpers`), the stand-in Hub (`hub_standin`, its
pytest fixtures in `hub_fixtures`), the demo and zoo helpers, and the data assertions."""
