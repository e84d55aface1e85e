"""The checker's optimal-transport map: si_ref's passes, the two usual look-alike maps are named.

The wrong maps are written as image and style-transfer code writes them: matrix square roots by
``scipy.linalg.sqrtm`` and an explicit inverse, or Cholesky factors, in float32.
"""

import numpy as np
import pytest
import scipy.linalg as sl
from hypothesis import given, settings

import si_ref
from si_ref import golden, references
from si_ref.checking.check import check
from si_ref.checking.table import QUANTITIES

CASE = references.case("gaussian-2d-linear-brownian")          # non-commuting full covariances
DIAGONAL = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()),
                               si_ref.Gaussian(np.zeros(2), np.diag([0.5, 2.0])),
                               si_ref.Gaussian(np.ones(2), np.diag([3.0, 0.25])))
FAST = dict(max_examples=10, shrink=False)


def whiten_colour(case):
    b, t = case.base, case.target
    M = np.real(sl.sqrtm(t.cov)) @ np.linalg.inv(np.real(sl.sqrtm(b.cov)))
    return lambda x: (t.mean + (np.asarray(x, np.float32) - b.mean) @ M.T.astype(np.float32)).astype(np.float32)


def cholesky_ratio(case):
    b, t = case.base, case.target
    M = np.linalg.cholesky(t.cov) @ np.linalg.inv(np.linalg.cholesky(b.cov))
    return lambda x: t.mean + (x - b.mean) @ M.T


def test_si_ref_passes_on_named_and_drawn_cases():
    assert check(si_ref.GaussianOTMap(CASE.base, CASE.target), "ot_map", CASE, **FAST).passed
    report = check(lambda ref: si_ref.GaussianOTMap(ref.base, ref.target), "ot_map", max_examples=20)
    assert report.passed, str(report)


def root_of_reversed_product(case):
    """inv(S0) @ sqrtm(S1 @ S0): the closed form inv(S0) @ sqrtm(S0 @ S1) with the product reversed, float32."""
    b, t = case.base, case.target
    M = (np.linalg.inv(b.cov) @ np.real(sl.sqrtm(t.cov @ b.cov))).astype(np.float32)
    return lambda x: (t.mean + (np.asarray(x, np.float32) - b.mean) @ M.T).astype(np.float32)


def test_the_closed_form_through_a_product_root_passes_and_its_reversed_product_is_named():
    b, t = CASE.base, CASE.target
    M = np.linalg.inv(b.cov) @ np.real(sl.sqrtm(b.cov @ t.cov))
    assert check(lambda x: t.mean + (x - b.mean) @ M.T, "ot_map", CASE, **FAST).passed
    report = check(root_of_reversed_product(CASE), "ot_map", CASE, **FAST)
    assert report.diagnosis_names == ("root-product-order",), str(report)


@pytest.mark.parametrize("wrong, diagnosis", [(whiten_colour, "whiten-colour-map"),
                                              (cholesky_ratio, "triangular-map")])
def test_look_alike_maps_are_named_where_the_covariances_do_not_commute(wrong, diagnosis):
    report = check(wrong(CASE), "ot_map", CASE, **FAST)
    assert not report.passed
    assert report.diagnosis_names == (diagnosis,), str(report)
    # both push the base onto the target (M S0 Mᵀ = S1): the checker's point is that they are not *optimal*;
    # their exact cost E|M (x0 − m0) + m1 − x0|² exceeds W2² (by 0.010 and 0.42 here)
    implementation, (m0, S0), (m1, S1) = wrong(CASE), (CASE.base.mean, CASE.base.cov), (CASE.target.mean, CASE.target.cov)
    M = (np.asarray(implementation(m0 + np.eye(2)), np.float64) - np.asarray(implementation(m0[None]), np.float64)).T
    np.testing.assert_allclose(M @ S0 @ M.T, S1, atol=1e-5)
    E = M - np.eye(2)
    cost = float((m1 - m0) @ (m1 - m0) + np.trace(E @ S0 @ E.T))
    assert cost - si_ref.GaussianOTMap(CASE.base, CASE.target).w2_squared > 5e-3


@pytest.mark.parametrize("wrong", [whiten_colour, cholesky_ratio])
def test_look_alike_maps_are_optimal_for_diagonal_covariances(wrong):
    assert check(wrong(DIAGONAL), "ot_map", DIAGONAL, **FAST).passed


def test_drawn_references_are_where_the_look_alike_maps_are_not_optimal():
    # d = 1 (every increasing linear map is the OT map) and commuting covariances (the whitening-colouring map is
    # the OT map) were most draws of strategies.coupled_cases; the checker draws neither
    @settings(max_examples=30, deadline=None)
    @given(QUANTITIES["ot_map"].reference_strategy())
    def run(case):
        assert case.dim >= 2
        a = si_ref.GaussianOTMap(case.base, case.target).matrix
        for wrong in (whiten_colour, cholesky_ratio):
            implementation = wrong(case)
            m = (np.asarray(implementation(case.base.mean + np.eye(case.dim)), np.float64)
                 - np.asarray(implementation(case.base.mean[None]), np.float64)).T
            assert np.abs(m - a).max() > 1e-2 * np.abs(a).max()

    run()


@pytest.mark.parametrize("wrong, diagnosis", [(whiten_colour, "whiten-colour-map"),
                                              (cholesky_ratio, "triangular-map")])
def test_a_few_drawn_references_find_and_name_the_look_alike_maps(wrong, diagnosis):
    report = check(wrong, "ot_map", fixed=False, max_examples=3, shrink=False)
    assert not report.passed and report.diagnosis_names == (diagnosis,), str(report)


def test_golden_vectors_name_the_whitening_map(tmp_path):
    vectors = golden.load(golden.write(tmp_path))
    report = golden.verify(vectors, "ot_map", whiten_colour(CASE), reference="gaussian-2d-linear-brownian")
    assert not report.passed and report.diagnosis_names == ("whiten-colour-map",), str(report)


def test_a_case_without_gaussian_endpoints_is_refused():
    with pytest.raises(ValueError, match="does not fit 'ot_map'"):
        check(lambda x: x, "ot_map", references.case("mixture-2d-linear-brownian"))
