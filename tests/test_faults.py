"""Broken checkpoints, odd numbers, limits, interrupted writes, a silent hub and many threads:
each gives one clear error, a right answer, or leaves what was there unchanged."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bertsteps
from bertsteps.cli import main

ROOT = Path(__file__).resolve().parent.parent


def copy_checkpoint(source: Path, folder: Path) -> Path:
    shutil.copytree(source, folder)
    return folder


def edit_config(folder: Path, **changes: object) -> None:
    path = folder / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def edit_weights(
    folder: Path,
    change: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]],
) -> None:
    from safetensors.torch import load_file, save_file

    path = folder / "model.safetensors"
    save_file(change(load_file(path)), path, metadata={"format": "pt"})


def save_small_bert(
    folder: Path, vocab_size: int, tokenizer_from: Path
) -> Path:
    """A one-layer, 16-wide random BERT whose embedding matrix has ``vocab_size`` rows, with the default tokenizer."""
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    for name in (
        "vocab.txt",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ):
        if (tokenizer_from / name).exists():
            shutil.copy(tokenizer_from / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-layer, 16-wide random BERT with a 2,005-token WordPiece vocabulary: fast to tabulate and export."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("small-bert")
    common = (
        (bertsteps.default_folder() / "vocab.txt")
        .read_text(encoding="utf-8")
        .splitlines()[1996:3996]
    )
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *common]
    BertTokenizerFast(
        vocab={token: i for i, token in enumerate(vocab)}
    ).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    return folder


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bertsteps: error: "), err
    assert "Traceback" not in err
    return lines[0]


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI in this process; assert exit 2 and one error line; return the line."""
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    return one_error_line(err)


# ---------------------------------------------------------------------------------------
# Broken or odd checkpoints


def _truncated(folder: Path) -> None:
    path = folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[:5000])


def _garbage(folder: Path) -> None:
    (folder / "model.safetensors").write_bytes(os.urandom(4096))


def _no_tokenizer(folder: Path) -> None:
    for name in (
        "vocab.txt",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ):
        (folder / name).unlink(missing_ok=True)


def _nan_rows(folder: Path) -> None:
    def poison(w: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        w["embeddings.word_embeddings.weight"][[5, 2332, 4000]] = float("nan")
        return w

    edit_weights(folder, poison)


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated weights": (
        _truncated,
        r"model\.safetensors is not a readable safetensors file .*truncated or corrupt",
    ),
    "garbage weights": (
        _garbage,
        r"model\.safetensors is not a readable safetensors file",
    ),
    "config wider than weights": (
        lambda f: edit_config(f, hidden_size=768, num_attention_heads=12),
        r"config\.json says vocab_size=30522 and hidden_size=768, but .*word_embeddings\.weight .* is 30522 x 48",
    ),
    "config vocabulary 1000": (
        lambda f: edit_config(f, vocab_size=1000),
        r"says vocab_size=1000 .* is 30522 x 48",
    ),
    "heads do not divide hidden": (
        lambda f: edit_config(f, num_attention_heads=5),
        r"5 attention heads do not divide the hidden size 48",
    ),
    "no tokenizer files": (
        _no_tokenizer,
        r"has no tokenizer files .*tokenizer\.save_pretrained",
    ),
    "NaN rows": (
        _nan_rows,
        r"word_embeddings\.weight holds 144 NaN or infinite values in 3 rows \[5, 2332, 4000\]: every result",
    ),
    "fewer layers in config": (
        lambda f: edit_config(f, num_hidden_layers=1),
        r"says 1 layers, but the weights hold 2",
    ),
    "more layers in config": (
        lambda f: edit_config(f, num_hidden_layers=3),
        r"says 3 layers, but the weights hold 2",
    ),
    "layer count not an int": (
        lambda f: edit_config(f, num_hidden_layers="two"),
        r"num_hidden_layers is 'two'",
    ),
    "config not JSON": (
        lambda f: (f / "config.json").write_text("{not json"),
        r"config\.json cannot be read as JSON",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_checkpoint_is_one_clear_error(
    case: str,
    tiny_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import re

    folder = copy_checkpoint(tiny_folder, tmp_path / "ckpt")
    damage, message = BROKEN[case]
    damage(folder)
    line = refused(
        capsys, "info", "--checkpoint", str(folder), "--device", "cpu"
    )
    assert re.search(message, line), line
    assert str(folder) in line  # names the folder or the file in it
    with pytest.raises(bertsteps.CheckpointError, match=message):
        bertsteps.load(folder, device="cpu")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (8, r"rows 30,522 to 30,529 would belong to no token"),
        (-22, r"ids 30,500 and up would have no row"),
    ],
)
def test_embedding_rows_must_match_the_tokenizer(
    extra: int,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = save_small_bert(
        tmp_path / "ckpt", 30522 + extra, bertsteps.default_folder()
    )
    line = refused(
        capsys,
        "nearest",
        "king",
        "--checkpoint",
        str(folder),
        "--device",
        "cpu",
    )
    assert (
        "the tokenizer has 30,522 tokens but the embedding matrix has" in line
    )
    assert __import__("re").search(message, line), line


def test_a_stray_head_key_is_not_a_head(
    tiny_folder: Path, tmp_path: Path
) -> None:
    from safetensors.torch import save_file

    folder = copy_checkpoint(tiny_folder, tmp_path / "ckpt")
    save_file(
        {"cls.predictions.bias": torch.zeros(30522)},
        folder / "head.safetensors",
    )
    bert = bertsteps.load(folder, device="cpu")
    assert bert.has_mlm_head is False
    with pytest.raises(
        bertsteps.CheckpointError, match="no masked-language-model head"
    ):
        bert.masked_lm()


def test_a_file_and_an_empty_name_are_not_checkpoints(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tiny_folder: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notes = tmp_path / "somefile.txt"
    notes.write_text("hello")
    assert f"{notes} is a file, not a checkpoint folder" in refused(
        capsys, "info", "--checkpoint", str(notes)
    )
    monkeypatch.setenv(
        "BERTSTEPS_CHECKPOINT", str(tiny_folder)
    )  # must not be used for an explicit ''
    assert "the checkpoint is an empty name" in refused(
        capsys, "info", "--checkpoint", ""
    )
    with pytest.raises(bertsteps.CheckpointError, match="empty name"):
        bertsteps.load("")


def test_encoder_by_hand_refuses_a_distilbert_layout(tmp_path: Path) -> None:
    from transformers import DistilBertConfig, DistilBertModel

    from bertsteps.by_hand import encoder_by_hand

    folder = tmp_path / "distil"
    config = DistilBertConfig(
        vocab_size=30522, dim=16, n_layers=1, n_heads=2, hidden_dim=32
    )
    torch.manual_seed(0)
    DistilBertModel(config).save_pretrained(folder)
    bertsteps.load().tokenizer.save_pretrained(folder)
    distil = bertsteps.load(folder, device="cpu")
    with pytest.raises(
        bertsteps.BertStepsError,
        match="is a distilbert model, not laid out like BERT",
    ):
        encoder_by_hand(distil, bertsteps.encode(distil, "a short text"))


# ---------------------------------------------------------------------------------------
# Numbers


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    row=st.integers(min_value=1000, max_value=30000),
    exponent=st.integers(min_value=-30, max_value=30),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_nearest_is_right_at_any_magnitude(
    bert: bertsteps.Bert, row: int, exponent: int, dtype: torch.dtype
) -> None:
    vector = bert.embedding_matrix[row].double().cpu()
    want = bertsteps.nearest(bert, vector.float(), k=3)
    got = bertsteps.nearest(bert, (vector * 10.0**exponent).to(dtype), k=3)
    assert len(got) == 3
    assert [n.token for n in got] == [n.token for n in want]
    np.testing.assert_allclose(
        [n.score for n in got], [n.score for n in want], atol=1e-5
    )
    assert all(-1.0 <= n.score <= 1.0 for n in got)


def test_extreme_float64_and_empty_inputs(bert: bertsteps.Bert) -> None:
    king = bert.embedding_matrix[2332].double().cpu()
    assert bertsteps.nearest(bert, king * 1e300, k=1)[0].token == "king"
    assert bertsteps.nearest(bert, king * 1e-300, k=1)[0].token == "king"
    got = bertsteps.cosine_matrix(
        np.array([[1e300, 1.0], [1e-300, 0.0], [3.0, 4.0]])
    )
    np.testing.assert_allclose(
        got.numpy(), [[1, 1, 0.6], [1, 1, 0.6], [0.6, 0.6, 1]], atol=1e-6
    )
    assert tuple(bertsteps.cosine_matrix(np.zeros((0, 4))).shape) == (0, 0)
    assert tuple(
        bertsteps.cosine_matrix(np.zeros((0, 4)), np.ones((3, 4))).shape
    ) == (
        0,
        3,
    )


def test_zero_and_nan_queries_are_refused(bert: bertsteps.Bert) -> None:
    with pytest.raises(
        bertsteps.BertStepsError, match="all zeros: it has no direction"
    ):
        bertsteps.nearest(bert, torch.zeros(384))
    bad = torch.ones(384)
    bad[7] = float("nan")
    with pytest.raises(
        bertsteps.BertStepsError,
        match=r"NaN or infinite values \(rows \[0\]\)",
    ):
        bertsteps.nearest(bert, bad)


# ---------------------------------------------------------------------------------------
# Limits


def test_text_longer_than_the_model_reads(bert: bertsteps.Bert) -> None:
    text = "word " * 600
    with pytest.raises(
        bertsteps.TokenError, match=r"602 tokens long .* reads at most 512"
    ):
        bertsteps.forward(bert, text)
    with pytest.raises(
        bertsteps.TokenError, match=r"602 tokens long .* reads at most 512"
    ):
        bertsteps.word_in_context(bert, text, "word")
    assert (
        bertsteps.forward(bert, text, truncation=True).last_hidden_state.shape[
            1
        ]
        == 512
    )


def test_text_longer_than_a_small_position_table(tiny: bertsteps.Bert) -> None:
    with pytest.raises(bertsteps.TokenError, match=r"reads at most 128"):
        bertsteps.forward(tiny, "word " * 200)


def test_memory_is_estimated_before_allocating(
    bert: bertsteps.Bert,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bertsteps.neighbours
    import bertsteps.similarity

    def work(*args: object, **kwargs: object) -> None:
        raise AssertionError("work began before the memory was estimated")

    # every step that computes (unit rows, blocks of cosines) fails the test if reached
    for module, name in [
        (bertsteps.neighbours, "unit_embeddings"),
        (bertsteps.neighbours, "_symmetric_topk"),
        (bertsteps.neighbours, "_plain_rows"),
        (bertsteps.similarity, "_checked_unit_rows"),
    ]:
        monkeypatch.setattr(module, name, work)
    with pytest.raises(
        bertsteps.BertStepsError,
        match=r"k=8000 would need about 6\.\d GB .* bound of 2\.1 GB",
    ):
        bertsteps.neighbour_table(bert, k=8000)
    with pytest.raises(
        bertsteps.BertStepsError,
        match=r"chunk_size=100000 .* pass a smaller chunk_size",
    ):
        bertsteps.neighbour_table(bert, k=10, chunk_size=100000)
    with pytest.raises(
        bertsteps.BertStepsError,
        match=r"a 200,000 x 200,000 cosine matrix would need about 160\.\d GB",
    ):
        bertsteps.cosine_matrix(torch.ones(200_000, 2))
    line = refused(capsys, "neighbours", "--all", "-k", "8000")
    assert "6.0 GB" in line and "fewer neighbours" in line
    words = [f"w{i}" for i in range(61)]
    assert "at most 60 words" in refused(
        capsys, "similarity", *words, "--plot", "m.svg"
    )


# ---------------------------------------------------------------------------------------
# Writes, paths and interruptions


def run_cli(
    code: str,
    *argv: str,
    env: dict[str, str] | None = None,
    stdout: object = None,
) -> subprocess.Popen[str]:
    """``python -c code`` where ``code`` may patch ``bertsteps`` before calling ``main(argv)``."""
    program = f"import sys, os, signal\nfrom bertsteps.cli import main\n{code}\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.Popen(
        [sys.executable, "-c", program, *argv],
        stdout=subprocess.PIPE if stdout is None else stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


SIGINT_AT_ROW = """
import bertsteps.cli as cli
real = cli._tsv_row
count = [0]
def row(*a):
    count[0] += 1
    if count[0] == 200:
        os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, half way through the rows
    return real(*a)
cli._tsv_row = row
"""

SIGINT_WHILE_COMPUTING = """
import bertsteps.neighbours as nb
real = nb.neighbour_table
def table(*a, **k):
    print("computing", file=sys.stderr, flush=True)
    return real(*a, **k)
nb.neighbour_table = table
"""


@pytest.mark.slow  # the command line in new processes: a real Ctrl-C
@pytest.mark.parametrize("when", ["writing", "computing"])
def test_interrupted_neighbour_table_leaves_the_old_file(
    when: str, small_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "existing.tsv"
    out.write_bytes(b"old\ttable\n" * 100)
    before = out.read_bytes()
    argv = [
        "neighbours",
        "--all",
        "-k",
        "3",
        "--out",
        str(out),
        "--checkpoint",
        str(small_folder),
        "--device",
        "cpu",
    ]
    if when == "writing":
        proc = run_cli(SIGINT_AT_ROW, *argv)
        _, err = proc.communicate(timeout=120)
    else:
        proc = run_cli(SIGINT_WHILE_COMPUTING, *argv)
        assert proc.stderr is not None
        assert proc.stderr.readline().strip() == "computing"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert (
        err.strip().splitlines()[-1] == "bertsteps: interrupted"
        and "Traceback" not in err
    )
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "existing.tsv"
    ]  # no temporary file left


SIGINT_IN_EXPORT = """
import json, types
import bertsteps.explorer as ex
def dumps(*a, **k):
    os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, after the binary files were written
    return json.dumps(*a, **k)
ex.json = types.SimpleNamespace(dumps=dumps, loads=json.loads)
"""


@pytest.mark.slow  # the command line in new processes: a real Ctrl-C
def test_interrupted_explorer_export_leaves_the_old_folder(
    small_folder: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "manifest.json").write_text('{"vocab_size": 5}')
    (data / "vocab.json").write_text('["a"]')
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    proc = run_cli(
        SIGINT_IN_EXPORT,
        "explorer",
        str(data),
        "-k",
        "3",
        "--checkpoint",
        str(small_folder),
        "--device",
        "cpu",
    )
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_failed_folder_swap_leaves_the_old_folder(
    small_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from bertsteps.explorer import export

    data = tmp_path / "data"
    data.mkdir()
    (data / "manifest.json").write_text('{"old": true}')
    real = os.replace

    failed: list[object] = []

    def full_disk(src: object, dst: object) -> None:
        if (
            Path(str(dst)) == data.absolute() and not failed
        ):  # the new folder cannot be moved in
            failed.append(src)
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(
        bertsteps.BertStepsError,
        match=r"cannot write .*data: No space left on device; nothing was changed",
    ):
        export(bertsteps.load(small_folder, device="cpu"), data, k=3)
    monkeypatch.undo()
    assert len(failed) == 1
    assert [p.name for p in data.iterdir()] == ["manifest.json"]
    assert json.loads((data / "manifest.json").read_text()) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_output_paths_are_checked(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert "ends with a slash" in refused(
        capsys, "neighbours", "king", "--out", "newdir/"
    )
    assert "is a folder" in refused(
        capsys, "neighbours", "king", "--out", str(tmp_path)
    )
    assert "does not exist; create it first" in refused(
        capsys, "neighbours", "king", "--out", "no/such/t.tsv"
    )
    assert "FOLDER is empty" in refused(capsys, "explorer", "")
    assert "current or root folder" in refused(capsys, "explorer", ".")
    assert (
        list(tmp_path.iterdir()) == []
    )  # nothing named '-', 'newdir' or anything else
    assert main(["neighbours", "king", "-k", "2", "--out", "-"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "token\tneighbour_1\tscore_1\tneighbour_2\tscore_2",
        "king\tkings\t0.6904\tqueen\t0.6273",
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # the command line in new processes: /dev/full and an ascii stdout
def test_standard_output_that_fails(small_folder: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = run_cli(
            "", "tokens", "the", "--checkpoint", str(small_folder), stdout=full
        )
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert (
        "cannot write to standard output: No space left on device"
        in one_error_line(err)
    )
    proc = run_cli(
        "",
        "tokens",
        "café ☃",
        "--checkpoint",
        str(small_folder),
        env={"PYTHONIOENCODING": "ascii"},
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert "uses the ascii encoding, which cannot write" in one_error_line(err)
    assert "PYTHONIOENCODING=utf-8" in err


@pytest.mark.slow  # the command line in new processes: a closed pipe
def test_a_closed_pipe_ends_quietly(small_folder: Path) -> None:
    proc = run_cli(
        "",
        "neighbours",
        "--all",
        "-k",
        "2",
        "--checkpoint",
        str(small_folder),
        "--device",
        "cpu",
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    proc.wait(timeout=120)
    err = proc.stderr.read() if proc.stderr else ""
    assert first.startswith("token\tneighbour_1")
    assert proc.returncode == 0 and err == ""


# ---------------------------------------------------------------------------------------
# The network: a hub that accepts connections and never answers


@pytest.fixture
def black_hole() -> Iterator[str]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # accepted, never answered
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_hub_that_never_answers_is_reported_within_seconds(
    black_hole: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(
        huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path)
    )
    monkeypatch.setenv("HF_ENDPOINT", black_hole)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(bertsteps.CheckpointError) as caught:
        bertsteps.load("bert-base-uncased")
    message = str(caught.value)
    # given up by the 3 s timeout of a request or by the 6 s deadline around the
    # look-up, whichever comes first on this machine: both are named as such
    assert re.match(
        re.escape(
            f"asking the hub at {black_hole} about checkpoint 'bert-base-uncased'"
        )
        + r"( failed: ReadTimeout: timed out\. |: no answer within 6 s "
        r"\(the hub accepted the connection\)\. )Use the bundled default",
        message,
    ), message
    assert "bundled default" in message


# ---------------------------------------------------------------------------------------
# Threads


def test_load_from_many_threads_loads_once(
    tiny_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers.utils import logging as hf_logging

    import bertsteps.checkpoints as ck

    folder = copy_checkpoint(tiny_folder, tmp_path / "fresh")
    calls: list[int] = []
    real = ck._load_checked

    def counted(*args: object) -> bertsteps.Bert:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ck, "_load_checked", counted)
    hf_logging.set_verbosity_info()
    try:
        results: list[bertsteps.Bert] = []
        barrier = threading.Barrier(8)

        def worker() -> None:
            barrier.wait()
            results.append(bertsteps.load(folder, device="cpu"))

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert len(results) == 8
        assert all(r is results[0] for r in results)
        assert len(calls) == 1
        assert (
            hf_logging.get_verbosity() == hf_logging.INFO
        )  # the caller's level, restored
    finally:
        hf_logging.set_verbosity_warning()


# ---------------------------------------------------------------------------------------
# Text


@pytest.mark.parametrize(
    ("text", "word", "span", "tokens"),
    [
        ("我爱北京", "北京", (2, 4), ["北", "京"]),
        ("un café noir", "cafe", (3, 7), ["cafe"]),
        ("hello, world", ",", (5, 6), [","]),
        ("I ❤ 😀 you", "😀", (4, 5), ["[UNK]"]),
        ("the [MASK] is red", "[MASK]", (4, 10), ["[MASK]"]),
        ("Banking aside, BANK on it", "bank", (15, 19), ["bank"]),
    ],
)
def test_word_in_context_finds_what_the_tokenizer_sees(
    bert: bertsteps.Bert,
    text: str,
    word: str,
    span: tuple[int, int],
    tokens: list[str],
) -> None:
    found = bertsteps.word_in_context(bert, text, word)
    assert found.span == span
    assert found.tokens == tokens
    assert len(found.positions) == len(tokens)


def test_word_not_found_says_what_the_tokenizer_produced(
    bert: bertsteps.Bert,
) -> None:
    with pytest.raises(
        bertsteps.TokenError,
        match=r"'bank' \(tokens \['bank'\]\) occurs not at all .*\['\[CLS\]', 'banking'",
    ):
        bertsteps.word_positions(bert, "banking is fun", "bank")


def test_unknown_and_split_words_are_explained(bert: bertsteps.Bert) -> None:
    with pytest.raises(
        bertsteps.TokenError,
        match=r"\[UNK\]'s row \(id 100\) stands for every unknown word",
    ):
        bertsteps.word_ids(bert, "😀")
    with pytest.raises(
        bertsteps.TokenError,
        match="on the command line, --strategy mean or --strategy first",
    ):
        bertsteps.word_ids(bert, "tokenize")


def test_a_split_word_is_not_its_own_neighbour(bert: bertsteps.Bert) -> None:
    tokens = [n.token for n in bertsteps.nearest(bert, "tokenize", k=10)]
    assert len(tokens) == 10
    assert "token" not in tokens and "##ize" not in tokens


def test_a_full_disk_leaves_the_old_table(
    small_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import errno

    from bertsteps import atomic

    out = tmp_path / "existing.tsv"
    out.write_bytes(b"old\ttable\n")

    class FullDisk:
        def __init__(self, fd: int, *args: object, **kwargs: object) -> None:
            os.close(fd)

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fdopen", FullDisk)
    line = refused(
        capsys,
        "neighbours",
        "--all",
        "-k",
        "2",
        "--out",
        str(out),
        "--checkpoint",
        str(small_folder),
    )
    assert (
        f"cannot write {out}: No space left on device; nothing was changed there"
        in line
    )
    assert out.read_bytes() == b"old\ttable\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.tsv"]
