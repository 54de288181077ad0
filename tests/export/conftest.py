"""Fixtures shared by the export tests."""

import pytest

from compactbert.export import exporter as exporter_module


@pytest.fixture
def reference_predicts_otherwise(monkeypatch):
    """The PyTorch reference of every verification returns negated outputs, so that an export's predictions differ
    from it: the verification fails whatever the runtime computes."""
    real = exporter_module.torch_outputs

    def reversed_outputs(model, task, batch):
        return {name: -value for name, value in real(model, task, batch).items()}

    monkeypatch.setattr(exporter_module, "torch_outputs", reversed_outputs)
