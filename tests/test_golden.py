"""Golden test vectors: reproducible files, hash checks, independent oracles, and verify's reports.

The oracles are written here from the closed forms (√(t(1−t)), 1 − t, t, the
Gaussian density of x_t), not taken from si_ref; the wrong implementations are
written the way a user writes them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile

import numpy as np
import pytest

import si_ref as S
from si_ref import golden, references
from si_ref.quantities import QUANTITIES
from si_ref.wrappers import DriftFromVelocityScore, ScoreFromNoise

FILES = ("manifest.json", "vectors.npz", "vectors.json")
COEFFICIENTS = ("gamma", "gamma_dot", "gamma_gamma_dot", "alpha", "alpha_dot", "beta", "beta_dot",
                "interpolant", "interpolant_dot", "interpolant_partial_t")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return golden.write(tmp_path_factory.mktemp("golden") / "vectors")


@pytest.fixture(scope="module")
def vectors(folder):
    return golden.load(folder)


def si_ref_implementation(quantity: str, eps: float):
    """si_ref's own implementation in the form verify expects (a factory, or the wrapper class)."""
    q = QUANTITIES.get(quantity)
    if q is not None and (q.level.startswith("diffusion") or q.level in ("guidance", "coupling")):
        return q.own_implementation(eps)
    if q is not None and q.level in ("wrapper", "step", "loss", "likelihood", "interpolant") and \
            quantity not in COEFFICIENTS and quantity not in ("interpolant", "interpolant_dot", "interpolant_partial_t"):
        return q.own_implementation(eps)
    if quantity in COEFFICIENTS:
        return lambda reference: getattr(reference, quantity)
    if quantity in ("forward_drift", "backward_drift"):
        return lambda case: (lambda x, t: getattr(case, quantity)(x, t, eps))
    return lambda case: getattr(case, quantity)


def without(vectors, quantity):
    """The set with the entries of ``quantity`` removed (as vectors written by a si_ref that lacked it)."""
    entries = [e for e in vectors.manifest["entries"] if e["quantity"] != quantity]
    return golden.GoldenSet(vectors.directory, {**vectors.manifest, "entries": entries}, vectors.arrays)


def copy_of(folder, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


# --- si_ref passes its own vectors ------------------------------------------------------------------

@pytest.mark.parametrize("quantity", ["gamma_dot", "alpha", "interpolant", "interpolant_dot", "drift", "score",
                                      "forward_drift", "log_density", "DriftFromVelocityScore", "ScoreFromNoise"])
def test_si_ref_implementations_pass_their_golden_vectors(vectors, quantity):
    report = golden.verify(vectors, quantity, si_ref_implementation(quantity, vectors.eps))
    assert report.passed, str(report)
    assert report.examples == sum(len(e["rows"] or vectors[e["output"]]) for e in vectors.entries(quantity))
    assert "stored values compared" in str(report)


def test_every_stored_quantity_passes_with_si_ref(vectors):
    assert set(vectors.quantities) == set(QUANTITIES)   # every checkable quantity has vectors
    failed = [q for q in vectors.quantities
              if not golden.verify(vectors, q, si_ref_implementation(q, vectors.eps)).passed]
    assert failed == []


def test_verify_reads_a_folder_a_mapping_and_one_reference(folder, vectors):
    case = references.CASES["gaussian-2d-linear-brownian"]
    assert golden.verify(folder, "drift", {"gaussian-2d-linear-brownian": case.drift}).passed
    report = golden.verify(vectors, "drift", case.drift, reference="gaussian-2d-linear-brownian")
    assert report.passed and report.examples == len(golden.ROW_TIMES)
    assert golden.verify(vectors, "ScoreFromNoise", ScoreFromNoise, reference="mirror-2d-brownian").passed
    assert golden.verify(vectors, "DriftFromVelocityScore", {"one-sided-2d-trig": DriftFromVelocityScore}).passed


def test_scores_wrapper_entries_leave_out_the_times_where_gamma_vanishes(vectors):
    for entry in vectors.entries("ScoreFromNoise"):
        t = vectors[entry["inputs"]["t"]][entry["rows"]]
        assert t.min() >= 0.01 and t.max() <= 0.99
        assert vectors[entry["inputs"]["noise"]].shape == vectors[entry["output"]].shape


# --- files -------------------------------------------------------------------------------------------

def test_regenerating_gives_byte_identical_files(folder, tmp_path):
    again = golden.write(tmp_path / "again")
    for name in FILES:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


def test_files_hold_no_paths_and_fixed_zip_dates(folder):
    for name in FILES:
        assert str(folder).encode() not in (folder / name).read_bytes()
    with zipfile.ZipFile(folder / "vectors.npz") as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}


def test_manifest_records_versions_references_hashes_and_entries(folder, vectors):
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == 1 and manifest["eps"] == 0.5
    assert manifest["numpy_version"] == np.__version__
    assert "= v - gamma gamma_dot s" in manifest["conventions"]
    assert "eta = E[z | x_t = x] = -gamma s" in manifest["conventions"]
    with np.load(folder / "vectors.npz") as archive:
        assert sorted(archive.files) == [r["key"] for r in manifest["arrays"]]
        for record in manifest["arrays"]:
            array = archive[record["key"]]
            assert array.dtype == np.dtype("<f8") and list(array.shape) == record["shape"]
            assert hashlib.sha256(array.astype("<f8").tobytes(order="C")).hexdigest() == record["sha256"]
            parts = record["key"].split("/")
            assert (parts[0], parts[1], parts[-1]) == (record["group"], record["reference"], record["name"])
    used = {e["reference"] for e in manifest["entries"]}
    assert used <= set(manifest["references"])
    for name, definition in manifest["references"].items():
        if name == "linear-field-3d":   # the field of the step entries, not a named si_ref reference
            assert definition["kind"] == "LinearField" and np.shape(definition["A"]) == (3, 3)
            continue
        assert definition == json.loads(json.dumps(references.definition(name)))
    for entry in manifest["entries"]:
        assert entry["output"] in vectors.arrays and set(entry["inputs"].values()) <= set(vectors.arrays)


def decode(value):
    """vectors.json numbers: JSON numbers, or the strings inf / -inf / nan."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    return {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}[value] if isinstance(value, str) else value


def test_json_variant_holds_the_same_bits_as_the_npz(folder, vectors):
    document = json.loads((folder / "vectors.json").read_text(encoding="utf-8"))
    assert document["format_version"] == 1
    assert sorted(document["arrays"]) == sorted(vectors.arrays)
    for key, value in document["arrays"].items():
        array = np.array(decode(value), dtype=np.float64)
        assert array.tobytes() == vectors[key].tobytes(), key
    assert document["arrays"]["schedules/brownian/gamma_dot"][0] == "inf"
    assert document["arrays"]["schedules/brownian/gamma_dot"][-1] == "-inf"
    assert set(golden.load_json(folder)) == set(vectors.arrays)


# --- the stored values against independent oracles ------------------------------------------------------

def test_brownian_schedule_matches_its_closed_form(vectors):
    t = vectors["schedules/brownian/t"]
    assert t[0] == 0.0 and t[-1] == 1.0 and 1e-12 in t and 1e-6 in t
    np.testing.assert_allclose(vectors["schedules/brownian/gamma"], np.sqrt(t * (1 - t)), rtol=1e-14, atol=0)
    gamma_dot = vectors["schedules/brownian/gamma_dot"]
    assert gamma_dot[0] == np.inf and gamma_dot[-1] == -np.inf
    inside = slice(1, -1)
    np.testing.assert_allclose(gamma_dot[inside], (1 - 2 * t[inside]) / (2 * np.sqrt(t[inside] * (1 - t[inside]))),
                               rtol=1e-12)
    np.testing.assert_allclose(vectors["schedules/brownian/gamma_gamma_dot"], (1 - 2 * t) / 2, rtol=1e-13, atol=1e-16)


def test_linear_interpolant_rows_match_the_closed_forms(vectors):
    prefix = "interpolants/linear-brownian/"
    t, x0, x1, z = (vectors[prefix + name] for name in ("t", "x0", "x1", "z"))
    assert t[0] == 0.0 and t[-1] == 1.0 and x0.shape == (t.size, 3)
    alpha, beta, gamma = 1 - t, t, np.sqrt(t * (1 - t))
    np.testing.assert_allclose(vectors[prefix + "interpolant"],
                               alpha[:, None] * x0 + beta[:, None] * x1 + gamma[:, None] * z, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(vectors[prefix + "interpolant_partial_t"], x1 - x0, rtol=1e-13)
    grid = vectors[prefix + "t_grid"]
    np.testing.assert_allclose(vectors[prefix + "alpha"], 1 - grid, rtol=1e-15)
    np.testing.assert_array_equal(vectors[prefix + "beta_dot"], np.ones_like(grid))
    # d x_t/dt is undefined at t = 0, 1 (γ̇ infinite): its entry owns the rows in [0.01, 0.99].
    (entry,) = vectors.entries("interpolant_dot", "linear-brownian")
    td, x0d, x1d, zd = (vectors[entry["inputs"][name]] for name in ("t", "x0", "x1", "z"))
    assert td.min() == 0.01 and td.max() == 0.99
    gamma_dot = (1 - 2 * td) / (2 * np.sqrt(td * (1 - td)))
    np.testing.assert_allclose(vectors[entry["output"]], x1d - x0d + gamma_dot[:, None] * zd, rtol=1e-12)


def test_one_dimensional_gaussian_fields_match_the_density_of_x_t(vectors):
    # x0 ~ N(0, 1), x1 ~ N(3, 1/4), x_t = (1 − t) x0 + t x1 + √(t(1−t)) z ~ N(3t, (1−t)² + t²/4 + t(1−t)).
    prefix = "fields/gaussian-1d-linear-brownian/"
    t, x = vectors[prefix + "t"], vectors[prefix + "x"][:, 0]
    mean, var = 3 * t, (1 - t) ** 2 + t**2 / 4 + t * (1 - t)
    score = -(x - mean) / var
    np.testing.assert_allclose(vectors[prefix + "score"][:, 0], score, rtol=1e-12)
    log_density = -0.5 * np.log(2 * np.pi * var) - 0.5 * (x - mean) ** 2 / var
    np.testing.assert_allclose(vectors[prefix + "log_density"], log_density, rtol=1e-12)
    b, v, s = (vectors[prefix + name] for name in ("drift", "velocity", "score"))
    np.testing.assert_allclose(b, v - ((1 - 2 * t) / 2)[:, None] * s, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(vectors[prefix + "noise"], -np.sqrt(t * (1 - t))[:, None] * s, atol=1e-14)
    np.testing.assert_allclose(vectors[prefix + "forward_drift"], b + 0.5 * s, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(vectors[prefix + "backward_drift"], b - 0.5 * s, rtol=1e-12, atol=1e-14)


# --- corrupted vectors -------------------------------------------------------------------------------------

def test_a_changed_array_is_detected_and_named(folder, tmp_path):
    corrupt = copy_of(folder, tmp_path)
    with np.load(corrupt / "vectors.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["fields/gaussian-2d-linear-brownian/drift"][3, 1] += 1e-9
    golden._write_npz(corrupt / "vectors.npz", arrays)
    with pytest.raises(ValueError, match=r"'fields/gaussian-2d-linear-brownian/drift'.*corrupted.*si-ref golden --out"):
        golden.load(corrupt)
    with pytest.raises(ValueError, match="fields/gaussian-2d-linear-brownian/drift"):
        golden.verify(corrupt, "score", si_ref_implementation("score", 0.5))


def test_an_edited_manifest_hash_is_detected_and_named(folder, tmp_path):
    corrupt = copy_of(folder, tmp_path)
    text = (corrupt / "manifest.json").read_text(encoding="utf-8")
    record = next(r for r in json.loads(text)["arrays"] if r["key"] == "schedules/sigmoid-10/gamma")
    (corrupt / "manifest.json").write_text(text.replace(record["sha256"], "0" * 64), encoding="utf-8")
    with pytest.raises(ValueError, match="'schedules/sigmoid-10/gamma'"):
        golden.load(corrupt)
    with pytest.raises(ValueError, match="'schedules/sigmoid-10/gamma'"):
        golden.load_json(corrupt)


def test_another_format_version_is_refused(folder, tmp_path):
    old = copy_of(folder, tmp_path)
    text = (old / "manifest.json").read_text(encoding="utf-8")
    (old / "manifest.json").write_text(text.replace('"format_version": 1', '"format_version": 99'), encoding="utf-8")
    with pytest.raises(ValueError, match="format_version 99.*reads format_version 1"):
        golden.load(old)


# --- wrong implementations fail with the right diagnosis ------------------------------------------------

def test_drift_with_the_published_gamma_gamma_dot_sign_is_diagnosed(vectors):
    def make(case):
        def drift(x, t):   # b = v + γγ̇ s: the sign of the earliest public wrappers
            return case.velocity(x, t) + case.interpolant.gamma_gamma_dot(t)[:, None] * case.score(x, t)
        return drift

    report = golden.verify(vectors, "drift", make)
    assert not report.passed
    assert "gamma-gamma-dot-sign" in report.diagnosis_names
    assert "Minimal counterexample" in str(report)
    c = report.counterexample
    assert c.inputs["t"].shape == (1,) and c.inputs["x"].shape[0] == 1
    assert c.expected.shape == c.received.shape == c.inputs["x"].shape
    row = int(c.error.split("stored row ")[1].split()[0])
    name = c.reference.split(":")[0]
    np.testing.assert_array_equal(c.expected[0], vectors[f"fields/{name}/drift"][row])
    assert c.inputs["t"][0] == vectors[f"fields/{name}/t"][row]


def test_time_reversed_gamma_dot_is_diagnosed(vectors):
    report = golden.verify(vectors, "gamma_dot", lambda schedule: (lambda t: schedule.gamma_dot(1.0 - t)))
    assert not report.passed
    assert "time-reversed" in report.diagnosis_names
    assert "Minimal counterexample" in str(report)


def test_a_user_wrapper_with_the_wrong_sign_is_checked_on_the_stored_inputs(vectors):
    class PlusDrift:
        """b = v + γγ̇ s, written against si_ref's signature."""

        def __init__(self, velocity, score, gamma_schedule):
            self.velocity, self.score, self.schedule = velocity, score, gamma_schedule

        def __call__(self, x, t):
            return self.velocity(x, t) + self.schedule.gamma_gamma_dot(t)[:, None] * self.score(x, t)

    report = golden.verify(vectors, "DriftFromVelocityScore", PlusDrift)
    assert not report.passed and report.diagnosis_names[0] == "gamma-gamma-dot-sign"


def test_a_wrapper_calling_its_input_at_other_times_is_reported(vectors):
    class Shifted:
        def __init__(self, noise, gamma_schedule):
            self.noise, self.schedule = noise, gamma_schedule

        def __call__(self, x, t):
            return -self.noise(x, 0.5 * t) / self.schedule.gamma(t)[:, None]

    report = golden.verify(vectors, "ScoreFromNoise", Shifted)
    assert not report.passed and "input field 'noise' at other (x, t)" in report.counterexample.error


def test_raising_and_misshaped_implementations_fail_with_the_reason(vectors):
    def broken(case):
        def score(x, t):
            raise RuntimeError("not implemented")
        return score

    report = golden.verify(vectors, "score", broken, reference=None)
    assert not report.passed and "raised RuntimeError: not implemented" in report.counterexample.error
    report = golden.verify(vectors, "score", lambda case: (lambda x, t: case.score(x, t)[:, 0]))
    assert not report.passed and "returned shape" in report.counterexample.error


def test_time_broadcast_along_the_wrong_axis_is_diagnosed(vectors):
    def make(interpolant):
        def x_t(t, x0, x1, z):   # coefficient(t) * x without [:, None]: fails to broadcast for n != d
            return interpolant.alpha(t) * x0 + interpolant.beta(t) * x1 + interpolant.gamma(t) * z
        return x_t

    report = golden.verify(vectors, "interpolant", make)
    assert not report.passed and "t-wrong-axis" in report.diagnosis_names


# --- bad calls ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda f, v: golden.load(f / "missing"), ValueError, "does not exist.*si-ref golden --out"),
    (lambda f, v: golden.verify(f / "missing", "drift", print), ValueError, "does not exist"),
    (lambda f, v: golden.verify(v, "drfit", print), ValueError, r"no golden vectors for quantity 'drfit'.*'drift'"),
    (lambda f, v: golden.verify(without(v, "drift"), "drift", print), ValueError, "conformance.check.*stored quantities"),
    (lambda f, v: golden.verify(v, "drift", print, reference="no-such-case"), ValueError,
     r"reference 'no-such-case'.*stored references.*gaussian-2d-linear-brownian"),
    (lambda f, v: golden.verify(v, "MirrorVelocityFromScore", print, reference="gaussian-2d-linear-brownian"),
     ValueError, r"stored references for 'MirrorVelocityFromScore': \['mirror-2d-brownian'\]"),
    (lambda f, v: golden.verify(v, "drift", {"no-such-case": print}), ValueError, "no stored vectors"),
    (lambda f, v: golden.verify(v, "drift", {}), ValueError, "empty mapping"),
    (lambda f, v: golden.verify(v, "drift", 3), TypeError, "implementation must be callable"),
    (lambda f, v: golden.verify(v, "drift", print, rtol=-1.0), ValueError, "rtol must be a finite number"),
    (lambda f, v: golden.verify(v, "drift", print, rtol=float("nan")), ValueError, "rtol must be finite; received nan"),
    (lambda f, v: golden.verify(v, "drift", print, atol=-1e-9), ValueError, "atol must be a finite number >= 0"),
    (lambda f, v: golden.verify(v, "drift", print, atol="0"), TypeError, "atol must be a real number"),
    (lambda f, v: golden.verify(v, 7, print), TypeError, "quantity must be a name"),
    (lambda f, v: golden.write(f / "manifest.json"), ValueError, "is a file"),
    (lambda f, v: golden.verify(v, "scroe", print), ValueError,
     r"no golden vectors for quantity 'scroe'; did you mean 'score'\? stored quantities: BackwardDriftFromDriftScore"),
    (lambda f, v: golden.verify(v, "drift", print, reference="mixture-2d-linear-brownain"), ValueError,
     "did you mean 'mixture-2d-linear-brownian' or "),
    (lambda f, v: golden.verify(v, "gamma", print, reference=S.ScaledBrownianGamma(3.0)), ValueError,
     r"ScaledBrownianGamma.*is not one of si_ref's named references.*stored references for 'gamma'"),
    (lambda f, v: golden.verify(v, "gamma", print, reference=3), TypeError,
     "reference must be the name \\(str\\) of a stored reference or a GammaSchedule"),
], ids=["load-missing-folder", "verify-missing-folder", "unknown-quantity", "quantity-without-vectors",
        "unknown-reference", "reference-not-stored-for-quantity", "mapping-unknown-reference",
        "empty-mapping", "not-callable", "negative-rtol", "nan-rtol", "negative-atol", "string-atol",
        "quantity-not-a-string", "write-onto-a-file", "misspelt-quantity", "misspelt-reference",
        "unnamed-reference-object", "reference-of-another-type"])
def test_bad_calls_raise_clear_errors(folder, vectors, call, error, message):
    with pytest.raises(error, match=message):
        call(folder, vectors)


def test_main_write_reports_the_files(tmp_path):
    message = golden.main_write(tmp_path / "cli")
    assert "vectors.npz" in message and "manifest.json" in message and f"{len(QUANTITIES)} quantities" in message


def test_an_infinity_of_the_wrong_sign_fails(vectors):
    def make(schedule):
        def gamma_dot(t):   # right inside (0, 1), but −∞ at t = 0 and +∞ at t = 1 for the Brownian γ
            values = schedule.gamma_dot(t)
            return np.where(np.isinf(values), -values, values)
        return gamma_dot

    report = golden.verify(vectors, "gamma_dot", make(references.GAMMA_SCHEDULES["brownian"]), reference="brownian")
    assert not report.passed
    c = report.counterexample
    assert c.inputs["t"].tolist() == [0.0] and c.received.tolist() == [-np.inf] and c.expected.tolist() == [np.inf]
    assert "(2 of 19 rows differ)" in report.counterexample.error


# --- references by object, readable reports, the tolerance and the reported errors ----------------------------

def test_a_reference_may_be_given_by_name_or_by_object(vectors):
    case = references.CASES["mixture-2d-linear-brownian"]
    by_name = golden.verify(vectors, "score", case.score, reference="mixture-2d-linear-brownian")
    by_object = golden.verify(vectors, "score", case.score, reference=case)
    assert by_name.passed and by_object == by_name
    rebuilt = S.LinearInterpolant(S.BrownianGamma())       # an equal rebuild of "linear-brownian"
    report = golden.verify(vectors, "beta", lambda t: np.asarray(t, dtype=float), reference=rebuilt)
    assert report.passed and "linear-brownian" in str(report)
    report = golden.verify(vectors, "gamma", lambda t: np.sqrt(t * (1 - t)), reference=S.BrownianGamma())
    assert report.passed and report.examples == len(golden.SCHEDULE_GRID)


def test_the_report_is_plain_text_with_the_vectors_used(folder):
    from test_quantities import markup_in

    case = references.CASES["gaussian-2d-linear-brownian"]
    report = golden.verify(folder, "drift", lambda x, t: -case.drift(x, t), reference=case)
    text = str(report)
    assert markup_in(text) == [], text
    lines = text.splitlines()
    assert lines[0] == "si_ref conformance: drift: FAIL"
    assert lines[1] == f"  definition: {QUANTITIES['drift'].plain}"
    assert lines[2] == f"  golden vectors in {folder} (format 1, written by si_ref {golden._version()})"
    assert lines[3] == f"  {2 * len(golden.ROW_TIMES)} stored values compared, 1 reference(s): gaussian-2d-linear-brownian"
    assert "sign-flip" in report.diagnosis_names


def test_the_tolerance_scales_with_the_expected_value(vectors):
    """|2e − e| = |e| > 0.5 |e| fails; |1.2e − e| = 0.2 |e| passes (a tolerance scaled by |received| passes both)."""
    case = references.CASES["mixture-2d-linear-brownian"]
    twice = golden.verify(vectors, "drift", lambda x, t: 2.0 * case.drift(x, t), reference=case, rtol=0.5)
    assert not twice.passed
    assert twice.counterexample.max_rel_error == pytest.approx(1.0, rel=1e-12)
    assert golden.verify(vectors, "drift", lambda x, t: 1.2 * case.drift(x, t), reference=case, rtol=0.5).passed
    assert not golden.verify(vectors, "drift", lambda x, t: 1.2 * case.drift(x, t), reference=case, rtol=0.1).passed


def test_reported_errors_are_those_of_the_stored_row(vectors):
    case = references.CASES["coupled-2d-trig-bsquared"]

    def wrong(x, t):
        return case.score(x, t) * (1 + 1e-3) - 3e-4

    report = golden.verify(vectors, "score", wrong, reference=case)
    c = report.counterexample
    row = int(c.error.split("stored row ")[1].split()[0])
    x, t = vectors[f"fields/{case_name(case)}/x"][row:row + 1], vectors[f"fields/{case_name(case)}/t"][row:row + 1]
    np.testing.assert_array_equal(c.inputs["x"], x)
    expected = vectors[f"fields/{case_name(case)}/score"][row:row + 1]
    received = wrong(x, t)
    difference = np.abs(received - expected)
    assert c.max_abs_error == float(difference.max())
    assert c.max_rel_error == float((difference / np.abs(expected)).max())
    text = str(report)
    assert f"max |received - expected| = {c.max_abs_error!r}; max relative error = {c.max_rel_error!r}" in text


def case_name(case):
    return next(name for name, value in references.CASES.items() if value is case)


# --- steps, with a field any language can rebuild ------------------------------------------------------

STEPS = ("euler_step", "midpoint_step", "heun_step", "rk4_step", "euler_maruyama_step", "stochastic_heun_step")


@pytest.mark.parametrize("name", STEPS)
def test_si_ref_steppers_pass_the_step_vectors(vectors, name):
    """Stored values come from the step formulas; si_ref.samplers' steppers are a second implementation."""
    report = golden.verify(vectors, name, QUANTITIES[name].own_implementation())
    assert report.passed and report.examples == 7, str(report)


def test_the_step_field_is_rebuilt_from_the_manifest_alone(vectors):
    A = np.array(vectors.manifest["references"]["linear-field-3d"]["A"])
    c = np.array(vectors.manifest["references"]["linear-field-3d"]["c"])
    entry = vectors.entries("rk4_step")[0]
    t, x, dt = (vectors[entry["inputs"][k]] for k in ("t", "x", "dt"))

    def field(y, s):
        return y @ A.T + np.reshape(s, (-1, 1)) * c

    k1 = field(x, t)
    k2 = field(x + dt[0] / 2 * k1, t + dt[0] / 2)
    k3 = field(x + dt[0] / 2 * k2, t + dt[0] / 2)
    k4 = field(x + dt[0] * k3, t + dt[0])
    np.testing.assert_allclose(x + dt[0] * (k1 + 2 * k2 + 2 * k3 + k4) / 6, vectors[entry["output"]], rtol=1e-14)


def test_a_heun_step_without_its_corrector_is_diagnosed_from_the_stored_vectors(vectors):
    report = golden.verify(vectors, "heun_step", lambda field, x, t, dt: x + dt * field(x, t))
    assert not report.passed and report.diagnosis_names[0] == "wrong-method", str(report)


# --- losses and the likelihood, on the linear field ---------------------------------------------------

def test_si_ref_passes_the_loss_and_likelihood_vectors(vectors):
    for name in ("loss_drift", "loss_velocity", "loss_noise", "loss_score", "loss_denoise_x0", "loss_denoise_x1",
                 "ode_log_likelihood"):
        assert golden.verify(vectors, name, QUANTITIES[name].own_implementation()).passed, name


def test_a_torch_style_mean_square_loss_is_diagnosed_from_the_stored_vectors(vectors):
    def make(reference):
        I = reference.interpolant

        def loss(field, t, x0, x1, z):   # torch.nn.functional.mse_loss(v_pred, u_t): mean over all n·d entries
            col = [np.reshape(f(t), (-1, 1)) for f in (I.alpha, I.beta, I.gamma, I.alpha_dot, I.beta_dot)]
            x_t = col[0] * x0 + col[1] * x1 + col[2] * z
            return np.mean((field(x_t, t) - (col[3] * x0 + col[4] * x1)) ** 2)
        return loss

    report = golden.verify(vectors, "loss_velocity", make)
    assert not report.passed and report.diagnosis_names[0] == "loss-scaling", str(report)


def test_the_likelihood_vectors_are_the_linear_flow_of_the_manifest(vectors):
    from scipy.linalg import expm
    from scipy.stats import multivariate_normal

    definition = vectors.manifest["references"]["linear-field-3d"]
    A, c = np.array(definition["A"]), np.array(definition["c"])
    entry = vectors.entries("ode_log_likelihood")[0]
    x = vectors[entry["inputs"]["x"]]
    # X_1 = e^A X_0 + ∫₀¹ e^{A(1 − s)} s c ds, the integral by a fine trapezoid (independent of the writer's expm trick)
    s = np.linspace(0.0, 1.0, 20001)
    integrand = np.stack([expm(A * (1.0 - si)) @ (si * c) for si in s])
    shift = np.trapezoid(integrand, s, axis=0)
    phi = expm(A)
    expected = multivariate_normal(shift, phi @ phi.T).logpdf(x)
    np.testing.assert_allclose(vectors[entry["output"]], expected, rtol=1e-8)


# --- the diffusion conventions ----------------------------------------------------------------------------

DIFFUSION = sorted(name for name, q in QUANTITIES.items() if q.level.startswith("diffusion"))


def test_every_diffusion_quantity_has_vectors_and_the_cases_are_defined_in_the_manifest(vectors):
    assert set(DIFFUSION) <= set(vectors.quantities)
    definitions = vectors.manifest["references"]
    for name in references.DIFFUSION_CASES:
        assert definitions[name]["kind"] == "diffusion_case" and definitions[name]["data"]["type"] == "GaussianMixture"
    assert definitions["diffusion-2d-zero-terminal-snr"]["path"] == {
        "family": "ZeroTerminalSNRPath", "path": {"family": "VPLinearPath", "beta_min": 0.1, "beta_max": 20.0}}
    assert "tau = 0 the data" in vectors.manifest["conventions"]


def test_the_diffusion_vectors_round_trip_through_json(folder, vectors):
    from_json = golden.load_json(folder)
    for key in vectors.arrays:
        if key.startswith("diffusion/"):
            np.testing.assert_array_equal(from_json[key], vectors[key])


def test_the_ddim_vectors_follow_the_papers_update_from_the_stored_arrays_alone(vectors):
    """Song et al. 2021, eqs. (12), (16), written here from the stored ε̂, x, ᾱ, ᾱ_prev, η and z."""
    entries = vectors.entries("ddim_eta_step")
    assert len(entries) >= 6
    for entry in entries:
        eps, x, noise = (vectors[entry["inputs"][k]] for k in ("eps", "x", "noise"))
        ab, abp, eta = (float(vectors[entry["inputs"][k]][0]) for k in ("alpha_bar", "alpha_bar_prev", "eta"))
        x0 = (x - np.sqrt(1 - ab) * eps) / np.sqrt(ab)
        s2 = eta**2 * (1 - abp) / (1 - ab) * (1 - ab / abp)
        expected = np.sqrt(abp) * x0 + np.sqrt(max(1 - abp - s2, 0.0)) * eps + np.sqrt(s2) * noise
        np.testing.assert_allclose(vectors[entry["output"]], expected, rtol=1e-12, atol=1e-14)


def test_the_reverse_sde_drift_entry_of_the_cosine_path_leaves_out_the_noise_end(vectors):
    (entry,) = vectors.entries("diffusion_reverse_sde_drift", "diffusion-2d-cosine")
    tau = vectors[entry["inputs"]["tau"]]
    assert tau.max() < 1.0 and tau.size == len(golden.ROW_TIMES) - 1
    (full,) = vectors.entries("diffusion_reverse_sde_drift", "diffusion-2d-vp-linear")
    assert vectors[full["inputs"]["tau"]].size == len(golden.ROW_TIMES)


def test_the_conversion_vectors_hold_one_level_per_row_where_the_conversion_is_checked(vectors):
    (entry,) = vectors.entries("convert_epsilon_to_sample")
    a, sigma = vectors[entry["inputs"]["a"]], vectors[entry["inputs"]["sigma"]]
    assert (a >= 0.01 * (a + sigma)).all() and a.size < len(golden.format.DIFFUSION_LEVELS)
    (entry,) = vectors.entries("convert_v_to_sample")
    assert vectors[entry["inputs"]["a"]].size == len(golden.format.DIFFUSION_LEVELS)


@pytest.mark.parametrize("quantity, wrong, diagnosis", [
    ("ddim_step", lambda eps, x, ab, abp: np.sqrt(abp) * (x - np.sqrt(1 - ab) * eps) / np.sqrt(ab), "missing-eps-term"),
    ("convert_v_to_sample", lambda p, x, a, s: np.reshape(a, (-1, 1)) * x - np.reshape(s, (-1, 1)) * p,
     "vp-only-formula"),
    ("shift_sigma", lambda sigma, s: (lambda once: s * once / (1 + (s - 1) * once))(s * sigma / (1 + (s - 1) * sigma)),
     "shift-twice"),
    ("heun_sigma_step", lambda D, x, s, n: x + (n - s) * (x - D(x, s)) / s, "wrong-method"),
], ids=["ddim", "v-conversion", "shift", "heun"])
def test_diffusion_mistakes_are_diagnosed_from_the_stored_vectors(vectors, quantity, wrong, diagnosis):
    report = golden.verify(vectors, quantity, wrong)
    assert not report.passed and report.diagnosis_names[0] == diagnosis, str(report)


def test_a_diffusion_field_is_verified_by_name_or_by_case_object(vectors):
    case = references.DIFFUSION_CASES["diffusion-2d-edm"]
    assert golden.verify(vectors, "diffusion_score", case.score, reference="diffusion-2d-edm").passed
    assert golden.verify(vectors, "diffusion_score", case.score, reference=case).passed
    report = golden.verify(vectors, "diffusion_flow_velocity", lambda c: (lambda x, tau: -c.flow_velocity(x, tau)))
    assert not report.passed and report.diagnosis_names[0] == "sign-flip", str(report)
