"""bertsteps.explorer: the data of the in-browser embedding explorer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import bertsteps
from bertsteps.cli import main
from bertsteps.explorer import approximate_cosines, decode, export
from bertsteps.similarity import excluded_ids, unit_embeddings

# Every test exports (or checks) a table of all 30,522 tokens: tens of seconds each.
pytestmark = pytest.mark.slow

BUDGET = 5_000_000  # bytes for the bundled default, manifest included


def read(folder: Path, manifest: dict, name: str) -> np.ndarray:
    spec = manifest["files"][name]
    array = np.fromfile(
        folder / spec["file"], dtype=np.dtype(spec["dtype"]).newbyteorder("<")
    )
    assert (
        array.nbytes == spec["bytes"] == (folder / spec["file"]).stat().st_size
    )
    return array.reshape(spec["shape"])


@pytest.fixture(scope="module")
def exported(
    bert: bertsteps.Bert, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("explorer")
    return folder, export(bert, folder)


def test_manifest_describes_the_checkpoint_and_files(
    bert: bertsteps.Bert, exported: tuple[Path, dict]
) -> None:
    folder, manifest = exported
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    n, hidden = bert.embedding_matrix.shape
    assert manifest["checkpoint"] == bert.name
    assert manifest["layers"] == bert.config.num_hidden_layers
    assert (manifest["vocab_size"], manifest["hidden_size"]) == (n, hidden)
    assert 10 <= manifest["k"] <= 20
    assert (
        manifest["tokenizer"]["lowercase"] is True
        and manifest["tokenizer"]["prefix"] == "##"
    )
    assert manifest["excluded_ids"] == excluded_ids(bert).tolist()
    ratio = manifest["map"]["explained_variance_ratio"]
    assert len(ratio) == 2 and 0 < ratio[1] <= ratio[0] < 1
    # the same "variance kept by the map" as the chapters print (bertsteps.vocabulary_map)
    kept = bertsteps.vocabulary_map(bert)
    assert ratio == pytest.approx(
        kept.explained_variance_ratio.tolist(), abs=1e-6
    )
    assert (
        manifest["map"]["fitted_rows"]
        == kept.coords.shape[0]
        == int(bertsteps.similarity.candidate_mask(bert).sum())
    )
    tokens = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    assert tokens == bert.tokenizer.convert_ids_to_tokens(list(range(n)))


def test_dtypes_and_shapes(
    bert: bertsteps.Bert, exported: tuple[Path, dict]
) -> None:
    folder, manifest = exported
    n, k = manifest["vocab_size"], manifest["k"]
    expected = {
        "neighbours": ("uint16", [n, k]),
        "scores": ("float16", [n, k]),
        "coords": ("float16", [n, 2]),
        "codes": ("uint8", [n, manifest["hidden_size"] // 4]),
    }
    for name, (dtype, shape) in expected.items():
        spec = manifest["files"][name]
        assert (spec["dtype"], spec["shape"]) == (dtype, shape), name
        assert read(folder, manifest, name).shape == tuple(shape)


def test_neighbours_are_the_neighbour_table(
    bert: bertsteps.Bert, exported: tuple[Path, dict]
) -> None:
    folder, manifest = exported
    indices = read(folder, manifest, "neighbours").astype(np.int64)
    scores = read(folder, manifest, "scores").astype(np.float32)
    assert (
        indices != np.arange(len(indices))[:, None]
    ).all()  # never the token itself
    assert not np.isin(indices, excluded_ids(bert).numpy()).any()
    want_indices, want_scores = bertsteps.neighbour_table(bert, manifest["k"])
    np.testing.assert_array_equal(indices, want_indices.numpy())
    np.testing.assert_allclose(
        scores, want_scores.numpy(), rtol=2**-11, atol=2**-24
    )  # float16 rounding
    assert (np.diff(scores, axis=1) <= 0).all()  # best first


def test_map_coordinates_are_the_pca_of_the_unit_rows(
    bert: bertsteps.Bert, exported: tuple[Path, dict]
) -> None:
    folder, manifest = exported
    coords = read(folder, manifest, "coords").astype(np.float32)
    unit = unit_embeddings(bert).cpu()
    keep = torch.ones(len(unit), dtype=torch.bool)
    keep[excluded_ids(bert)] = False
    want = bertsteps.pca(unit[keep], k=2).transform(unit).numpy()
    np.testing.assert_allclose(coords, want, rtol=2**-10, atol=1e-4)


def test_the_bundled_default_fits_the_budget(
    exported: tuple[Path, dict],
) -> None:
    folder, manifest = exported
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total <= BUDGET, f"{total:,} bytes"
    assert (
        manifest["data_bytes"]
        == total - (folder / "manifest.json").stat().st_size
    )


def test_compressed_cosines_are_within_the_measured_error(
    bert: bertsteps.Bert, exported: tuple[Path, dict]
) -> None:
    folder, manifest = exported
    approx = manifest["approximate"]
    random, close = approx["random_pairs"], approx["close_pairs"]
    assert (
        random["mean_abs_error"] < 0.03
        and random["p99_abs_error"] < 0.09
        and random["max_abs_error"] < 0.25
    )
    assert close["mean_abs_error"] < 0.03 and close["p99_abs_error"] < 0.09
    decoded = decode(read(folder, manifest, "codes"))
    unit = unit_embeddings(bert).cpu()
    generator = torch.Generator().manual_seed(
        123
    )  # other pairs than export measured on
    a = torch.randint(len(unit), (20_000,), generator=generator)
    b = torch.randint(len(unit), (20_000,), generator=generator)
    exact = (unit[a] * unit[b]).sum(dim=1)
    error = (approximate_cosines(decoded, a, b, approx["gain"]) - exact).abs()
    assert float(error.max()) <= random["max_abs_error"] * 1.5
    assert float(error.mean()) == pytest.approx(
        random["mean_abs_error"], rel=0.15
    )
    assert float(error.quantile(0.99)) == pytest.approx(
        random["p99_abs_error"], rel=0.15
    )
    # the king-queen pair, read through the 2-bit rows
    king, queen = bert.tokenizer.convert_tokens_to_ids(["king", "queen"])
    estimate = approximate_cosines(
        decoded, torch.tensor([king]), torch.tensor([queen]), approx["gain"]
    )
    assert (
        abs(float(estimate) - float(unit[king] @ unit[queen]))
        <= close["max_abs_error"]
    )


def test_a_random_checkpoint_gives_data_of_its_own_size(
    tiny: bertsteps.Bert, tmp_path: Path
) -> None:
    manifest = export(tiny, tmp_path, k=10)
    assert manifest["hidden_size"] == tiny.config.hidden_size == 48
    assert manifest["vocab_size"] == tiny.embedding_matrix.shape[0]
    assert manifest["layers"] == 2
    assert manifest["files"]["codes"]["shape"] == [manifest["vocab_size"], 12]
    indices = read(tmp_path, manifest, "neighbours").astype(np.int64)
    want, _ = bertsteps.neighbour_table(tiny, 10)
    np.testing.assert_array_equal(indices, want.numpy())
    assert manifest["approximate"]["random_pairs"]["mean_abs_error"] < 0.1


def test_the_command_writes_exactly_the_files_a_build_serves(
    tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "explorer",
                str(tmp_path / "data"),
                "--checkpoint",
                str(tiny_folder),
                "-k",
                "5",
            ]
        )
        == 0
    )
    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text())
    written = sorted(
        p.name for p in (tmp_path / "data").iterdir()
    )  # hooks/explorer.py serves the whole folder
    assert written == sorted(
        ["manifest.json", *(f["file"] for f in manifest["files"].values())]
    )
    assert manifest["k"] == 5 and manifest["hidden_size"] == 48
    assert f"into {tmp_path / 'data'}" in capsys.readouterr().out
    (tmp_path / "file").write_text("")
    assert (
        main(
            [
                "explorer",
                str(tmp_path / "file"),
                "--checkpoint",
                str(tiny_folder),
            ]
        )
        == 2
    )
    assert "is a file" in capsys.readouterr().err


def test_a_hidden_size_that_is_not_a_multiple_of_four_is_padded(
    tmp_path: Path,
) -> None:
    from tests.conftest import make_random_checkpoint

    odd = bertsteps.load(
        make_random_checkpoint(tmp_path / "odd", hidden_size=42, heads=2),
        device="cpu",
    )
    manifest = export(odd, tmp_path / "data", k=10)
    assert manifest["approximate"]["padded_size"] == 44
    codes = read(tmp_path / "data", manifest, "codes")
    assert codes.shape == (manifest["vocab_size"], 11)
