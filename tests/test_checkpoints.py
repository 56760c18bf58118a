"""Loading checkpoints: the bundled default offline, local folders, hub names, and every error."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import bertsteps
from bertsteps.checkpoints import DEFAULT_NAME, ENV_VAR

from .conftest import make_random_checkpoint


def use_hub_cache(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Point the Hugging Face cache at ``folder`` (huggingface_hub reads the variable at import)."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(folder))


def test_default_checkpoint_is_the_bundled_minilm(
    bert: bertsteps.Bert,
) -> None:
    info = bert.info()
    config = json.loads(
        (bertsteps.default_folder() / "config.json").read_text()
    )
    assert bert.name == DEFAULT_NAME
    assert bert.source.kind == "bundled"
    assert Path(bert.checkpoint) == bertsteps.default_folder().resolve()
    assert (info["layers"], info["hidden_size"], info["vocab_size"]) == (
        6,
        384,
        30522,
    )
    assert (
        info["hidden_size"] == config["hidden_size"] == bert.config.hidden_size
    )
    assert bert.model.training is False
    assert bert.model.device.type == bert.device.type
    assert bert.embedding_matrix.shape == (30522, 384)


def test_default_loads_with_the_network_forbidden(tmp_path: Path) -> None:
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise RuntimeError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import bertsteps\n"
        "b = bertsteps.load()\n"
        "print(b.info()['hidden_size'])\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != ENV_VAR}
    env["HF_HOME"] = str(tmp_path)  # an empty cache: nothing to fall back on
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "384"


def test_load_is_cached_per_checkpoint_and_device(
    bert: bertsteps.Bert, tiny_folder: Path
) -> None:
    assert bertsteps.load() is bert
    assert bertsteps.load(bertsteps.default_folder()) is bert
    assert bertsteps.load(tiny_folder, device="cpu") is bertsteps.load(
        str(tiny_folder), device="cpu"
    )
    assert bertsteps.load(tiny_folder, device="cpu") is not bert


def test_environment_variable_chooses_the_checkpoint(
    tiny_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tiny_folder))
    b = bertsteps.load(device="cpu")
    assert b.config.hidden_size == 48
    assert b.source.kind == "folder"
    assert b.checkpoint == str(tiny_folder.resolve())
    # the argument wins over the environment
    assert bertsteps.load(bertsteps.default_folder()).config.hidden_size == 384


def test_local_folder_with_a_different_size(tiny: bertsteps.Bert) -> None:
    info = tiny.info()
    assert (info["layers"], info["hidden_size"], info["heads"]) == (2, 48, 4)
    vectors = bertsteps.word_vectors(tiny, ["king", "queen"])
    assert vectors.shape == (2, 48)
    torch.testing.assert_close(vectors[1], tiny.embedding_matrix[3035])


def test_no_noise_when_loading(tmp_path: Path) -> None:
    folder = make_random_checkpoint(
        tmp_path / "mlm", hidden_size=16, layers=1, heads=2, mlm_head=True
    )
    code = f"import bertsteps; b = bertsteps.load({str(folder)!r}); print(b.has_mlm_head, b.info()['hidden_size'])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "16"]
    assert (
        out.stderr == ""
    )  # no "newly initialized", no unused-weights report, no progress bar


def test_masked_lm_head_when_the_checkpoint_has_one(
    tiny_mlm_folder: Path,
) -> None:
    b = bertsteps.load(tiny_mlm_folder, device="cpu")
    assert b.has_mlm_head
    mlm = b.masked_lm()
    assert mlm is b.masked_lm()
    ids = torch.tensor([bertsteps.tokenize(b, "the [MASK] sat").ids])
    with torch.no_grad():
        logits = mlm(input_ids=ids).logits
    assert logits.shape == (1, ids.shape[1], b.tokenizer.vocab_size)
    # the head's encoder has the same weights as the base model
    torch.testing.assert_close(
        mlm.base_model.embeddings.word_embeddings.weight, b.embedding_matrix
    )


def test_masked_lm_head_absent_is_a_clear_error(bert: bertsteps.Bert) -> None:
    assert bert.has_mlm_head is False
    with pytest.raises(
        bertsteps.CheckpointError,
        match=r"no masked-language-model head.*bert-base-uncased",
    ):
        bert.masked_lm()


def test_missing_folder() -> None:
    with pytest.raises(
        bertsteps.CheckpointError,
        match=r"no checkpoint folder.*bundled default",
    ):
        bertsteps.load("./no/such/folder")


def test_folder_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(
        bertsteps.CheckpointError, match=r"no config\.json.*notes\.txt"
    ):
        bertsteps.load(tmp_path)


def test_pickle_weights_are_refused(tmp_path: Path, tiny_folder: Path) -> None:
    (tmp_path / "config.json").write_text(
        (tiny_folder / "config.json").read_text()
    )
    torch.save({"x": torch.zeros(1)}, tmp_path / "pytorch_model.bin")
    with pytest.raises(
        bertsteps.CheckpointError,
        match=r"pickle weights \(pytorch_model\.bin\).*safetensors",
    ):
        bertsteps.load(tmp_path)


def test_incomplete_weights_are_refused(
    tmp_path: Path, tiny_folder: Path
) -> None:
    from safetensors.torch import load_file, save_file

    for f in tiny_folder.iterdir():
        if f.is_file() and f.suffix != ".safetensors":
            (tmp_path / f.name).write_bytes(f.read_bytes())
    weights = load_file(tiny_folder / "model.safetensors")
    save_file(
        {k: v for k, v in weights.items() if "layer.1.attention" not in k},
        tmp_path / "model.safetensors",
    )
    with pytest.raises(
        bertsteps.CheckpointError,
        match=r"lacks weights .*layer\.1\.attention.*refusing",
    ):
        bertsteps.load(tmp_path)
    save_file(
        {k: v for k, v in weights.items() if "layer.1." not in k},
        tmp_path / "model.safetensors",
    )
    with pytest.raises(
        bertsteps.CheckpointError,
        match="says 2 layers, but the weights hold 1",
    ):
        bertsteps.load(tmp_path)


def connections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every address this process tries to connect to from now on (the attempt goes on)."""
    tried: list[object] = []
    connect = socket.socket.connect

    def record(self: socket.socket, address: object) -> None:
        tried.append(address)
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    return tried


def test_hub_name_without_network_fails_at_the_first_connection(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_hub_cache(monkeypatch, tmp_path)  # nothing cached
    monkeypatch.setenv(
        "HF_ENDPOINT", "http://127.0.0.1:9"
    )  # nothing listens there
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    tried = connections(monkeypatch)
    with pytest.raises(bertsteps.CheckpointError) as err:
        bertsteps.load("bert-base-uncased")
    assert tried == [("127.0.0.1", 9)]  # one refused connection, no retries
    message = str(err.value)
    assert (
        "the hub at http://127.0.0.1:9 cannot be reached (ConnectionRefusedError"
        in message
    )
    assert "'bert-base-uncased'" in message
    assert DEFAULT_NAME in message


def test_hub_name_offline_mode_asks_no_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_hub_cache(monkeypatch, tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tried = connections(monkeypatch)
    with pytest.raises(
        bertsteps.CheckpointError,
        match=r"not in the local Hugging Face cache and HF_HUB_OFFLINE is set",
    ):
        bertsteps.load("bert-base-uncased")
    assert tried == []


def test_invalid_hub_name() -> None:
    with pytest.raises(
        bertsteps.CheckpointError,
        match="neither a folder nor a valid hub name",
    ):
        bertsteps.load("not a name!!")


@pytest.mark.parametrize("device", ["cuda:99", "tpu", "mps:7"])
def test_unavailable_device_is_a_clear_error(device: str) -> None:
    with pytest.raises(
        bertsteps.DeviceError, match=rf"device {re.escape(repr(device))}"
    ):
        bertsteps.load(device=device)


@pytest.fixture
def fresh_auto_device() -> Iterator[None]:
    """``"auto"`` is decided once per process: decide it again, here and afterwards."""
    from bertsteps.devices import _auto_device

    _auto_device.cache_clear()
    yield
    _auto_device.cache_clear()


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [
        (True, True, "cuda"),
        (True, False, "cuda"),
        (False, True, "mps"),
        (False, False, "cpu"),
    ],
)
def test_auto_device_prefers_cuda_then_mps(
    cuda: bool,
    mps: bool,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    fresh_auto_device: None,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    for spelling in ("auto", " AUTO ", None):
        assert bertsteps.resolve_device(spelling) == torch.device(expected)
    # a device named outright is taken as it is
    assert bertsteps.resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert bertsteps.resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize(
    "name",
    [
        "BAAI/bge-small-en-v1.5",
        "bert-base-uncased",
        "google/bert_uncased_L-2_H-128_A-2",
    ],
)
def test_dotted_and_plain_hub_names_are_hub_names(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_hub_cache(monkeypatch, tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        bertsteps.CheckpointError, match="not in the local Hugging Face cache"
    ):
        bertsteps.resolve(name)


def test_hub_name_found_in_the_local_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_folder: Path
) -> None:
    """A hub name already downloaded loads offline, from the Hugging Face cache layout."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--bertsteps-test--tiny-bert"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for f in tiny_folder.iterdir():
        (snapshot / f.name).write_bytes(f.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    use_hub_cache(monkeypatch, tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    b = bertsteps.load("bertsteps-test/tiny-bert", device="cpu")
    assert (
        b.source.kind == "hub"
        and b.name == b.checkpoint == "bertsteps-test/tiny-bert"
    )
    assert b.config.hidden_size == 48
