"""The checker with labels: conditional checks (``c=``) and the guided-field quantities.

The wrong implementations are written the way model code writes classifier-free guidance: two
outputs of one network (with the label and with the null label), float32, combined in one line.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import si_ref
from si_ref import references
from si_ref import strategies as sis
from si_ref.checking.check import check
from si_ref.checking.guidance import GUIDED_QUANTITY_FIELDS
from si_ref.checking.table import QUANTITIES

CASE = references.guidance_case("guidance-2d-linear-brownian")
st_dims = st.integers(1, 3)
FAST = dict(max_examples=10, shrink=False)


def network(field):
    """A float32 'network' with a null label: out(x, t) unconditional, out(x, t, c) conditional."""
    def out(x, t, c=None):
        x32 = np.asarray(x, dtype=np.float32).astype(np.float64)
        value = getattr(CASE, field)(x32, t) if c is None else getattr(CASE, field)(x32, t, c)
        return value.astype(np.float32)
    return out


def cfg(field, coefficient, *, swap=False, unguided=False, dropped=False):
    """guided = uncond + coefficient * (cond - uncond), float32, with one of the usual slips."""
    net = network(field)

    def guided(x, t, c):
        cond, uncond = net(x, t, c), net(x, t)
        if dropped:
            cond = net(x, t)                     # the label never reached the network
        if swap:
            cond, uncond = uncond, cond          # the halves of the doubled batch unpacked the wrong way
        if unguided:
            return cond
        return uncond + np.float32(coefficient) * (cond - uncond)
    return guided


@pytest.mark.parametrize("name", sorted(GUIDED_QUANTITY_FIELDS))
def test_si_ref_passes_every_guided_quantity_in_both_conventions(name):
    field = GUIDED_QUANTITY_FIELDS[name]
    for reference in (CASE.guided(scale=3.0), CASE.guided(weight=2.0)):
        report = check(getattr(reference, field), name, reference, **FAST)
        assert report.passed, str(report)


def test_a_float32_guidance_with_the_right_scale_passes_at_float32_tolerance():
    report = check(cfg("velocity", 3.0), "guided_velocity", CASE.guided(weight=2.0), **FAST)
    assert report.passed, str(report)
    assert "float32" in report.details


@pytest.mark.parametrize("wrong, diagnosis", [
    (cfg("velocity", 3.0), "guidance-off-by-one"),              # w = 3 used as the scale (should be g = 4)
    (cfg("velocity", 5.0), "guidance-off-by-one"),              # g = 4 used as Ho & Salimans' w
    (cfg("velocity", 4.0, swap=True), "guidance-swapped"),
    (cfg("velocity", 4.0, unguided=True), "guidance-missing"),
    (cfg("velocity", 4.0, dropped=True), "condition-dropped"),
])
def test_the_usual_guidance_slips_are_named(wrong, diagnosis):
    report = check(wrong, "guided_velocity", CASE.guided(weight=3.0), **FAST)
    assert not report.passed
    assert report.diagnosis_names[0] == diagnosis, str(report)


def test_c_fixes_the_label_of_a_guided_check():
    reference = CASE.guided(scale=3.0)
    only_zero = lambda x, t, c: reference.drift(x, t, c) if c == 0 else np.zeros_like(x)  # noqa: E731
    assert check(only_zero, "guided_drift", reference, c=0, **FAST).passed
    failed = check(only_zero, "guided_drift", reference, c=1, **FAST)
    assert not failed.passed and failed.counterexample.inputs["c"] == 1


def test_conditional_check_of_a_field_passes_and_names_a_dropped_label():
    assert check(CASE.drift, "drift", CASE, c=1, **FAST).passed
    unconditional = lambda x, t, c: CASE.drift(x, t)   # noqa: E731
    report = check(unconditional, "drift", CASE, c=1, **FAST)
    assert report.diagnosis_names[0] == "condition-dropped", str(report)


def test_conditional_check_of_a_wrapper_sees_whether_it_passes_c_on():
    assert check(si_ref.DriftFromVelocityScore, "DriftFromVelocityScore", CASE, c=0, **FAST).passed

    class Forgetful(si_ref.DriftFromVelocityScore):
        """Calls its fields without c, like an adapter whose forward(t, x, *args) swallows the label."""
        def __call__(self, x, t, c=None):
            return super().__call__(x, t)

    report = check(Forgetful, "DriftFromVelocityScore", CASE, c=0, **FAST)
    assert report.diagnosis_names == ("condition-dropped",), str(report)


def test_a_guided_gaussian_pair_is_a_labelled_reference_too():
    pair = si_ref.GuidedGaussianPair(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                                     si_ref.Gaussian(np.zeros(2), np.eye(2)),
                                     si_ref.Gaussian(np.array([1.0, 2.0]), np.diag([0.5, 0.2])),
                                     si_ref.Gaussian(np.zeros(2), np.diag([2.0, 1.5])), label=7)
    assert check(pair.score, "score", pair, c=7, **FAST).passed


def test_drawn_references_cover_both_conventions_and_every_label():
    report = check(lambda reference: reference.noise, "guided_noise", max_examples=15, seed=1)
    assert report.passed, str(report)


@pytest.mark.parametrize("call, error, match", [
    (lambda: check(CASE.drift, "drift", CASE, c=5), ValueError, r"labels are \[0, 1\]"),
    (lambda: check(CASE.drift, "drift", references.case("gaussian-2d-linear-brownian"), c=0), TypeError,
     "case\\(c\\)"),
    (lambda: check(lambda *a: None, "heun_step", CASE, c=0), ValueError, "field and wrapper quantities"),
    (lambda: check(CASE.drift, "guided_drift", c=0), ValueError, "needs the reference"),
    (lambda: check(CASE.drift, "guided_drift", CASE, c=0), TypeError, r"GuidedFields.*\.guided\(scale=g\)"),
    (lambda: check(CASE.drift, "drift", CASE.guided(scale=3.0), c=0), TypeError, "is the quantity 'guided_drift'"),
])
def test_bad_conditional_calls_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_guided_quantities_are_in_the_table_with_their_mistakes():
    for name in GUIDED_QUANTITY_FIELDS:
        names = [m.name for m in QUANTITIES[name].mistakes]
        assert {"guidance-off-by-one", "guidance-swapped", "guidance-missing", "condition-dropped"} <= set(names)


def test_strategies_draw_valid_labelled_cases_couplings_and_strengths():
    @settings(max_examples=15, deadline=None)
    @given(sis.guided_fields(2), sis.coupled_cases(2, couplings=("ot", "entropic")))
    def run(guided, coupled):
        assert len(guided.case.labels) >= 2
        assert 2.5 <= guided.strength.scale <= 8.0
        assert coupled.interpolant.kind == "two-sided" and coupled.cross_cov is not None

    run()


def test_drawn_labels_change_the_target_law():
    # rho(. | c) = rho would make every guided field equal to the unguided one and every guidance mistake invisible;
    # equal draws (every mean at 0, equal covariances) were a third of the draws before the strategy excluded them
    @settings(max_examples=40, deadline=None)
    @given(sis.labelled_gaussian_mixtures(st_dims))
    def run(target):
        points = np.concatenate([target.means, target.means + 1.0])
        unconditional = target.mixture.log_prob(points)
        for c in target.label_values:
            assert np.abs(target.conditional(c).log_prob(points) - unconditional).max() > 1e-3

    run()


def test_the_report_names_the_guided_reference_with_its_strength():
    report = check(cfg("velocity", 3.0), "guided_velocity", CASE.guided(weight=3.0), **FAST)
    assert report.counterexample.reference.startswith("GuidanceCase(")
    assert report.counterexample.reference.endswith(".guided(weight=3.0)")
    assert "c" in report.counterexample.inputs


def test_golden_vectors_of_a_guided_field_are_checked_at_the_strength_of_the_reference(tmp_path):
    from si_ref import golden
    vectors = golden.load(golden.write(tmp_path))
    # a callable is checked on the entries at its strength only (before: also at the other stored strength, so
    # si_ref's own guided drift failed)
    for reference in (CASE.guided(scale=3.0), CASE.guided(weight=2.0), CASE.guided(weight=4.5)):
        report = golden.verify(vectors, "guided_drift", reference.drift, reference=reference)
        assert report.passed and report.examples == 2 * 16, str(report)   # two labels, 16 stored rows each
    wrong = golden.verify(vectors, "guided_drift", CASE.guided(weight=3.0).drift, reference=CASE.guided(scale=3.0))
    assert wrong.diagnosis_names == ("guidance-off-by-one",), str(wrong)
    with pytest.raises(ValueError, match=r"at the strength g = 7 \(w = 6\); the stored strengths are"):
        golden.verify(vectors, "guided_drift", CASE.guided(scale=7.0).drift, reference=CASE.guided(scale=7.0))
    with pytest.raises(ValueError, match=r"a callable \(or a mapping of callables\) computes one"):
        golden.verify(vectors, "guided_drift", CASE.guided(scale=3.0).drift, reference="guidance-2d-linear-brownian")


def test_a_check_at_a_strength_where_mistakes_coincide_says_so():
    from si_ref.checking.guidance import blind_spots
    # at g = 1/2 the swapped combination g f_u + (1 - g) f_c is the right one: it passes, and the report says why
    reference = CASE.guided(scale=0.5)
    swapped = lambda x, t, c: 0.5 * CASE.drift(x, t) + 0.5 * CASE.drift(x, t, c)  # noqa: E731
    report = check(swapped, "guided_drift", reference, **FAST)
    assert report.passed and "guidance-swapped gives the right value here" in report.details
    assert "guidance-off-by-one = guidance-missing" in blind_spots(2.0)       # w = g - 1 = 1 used as the scale
    assert blind_spots(3.0) is None and blind_spots(5.5) is None               # the fixed strengths
    assert "at g = " not in check(CASE.guided(scale=3.0).drift, "guided_drift", CASE.guided(scale=3.0), **FAST).details
