"""fit_field / fit_drift: small fits on a 1D Gaussian case reach a stated error against the exact drift."""

import io

import numpy as np
import pytest

import si_ref
from si_ref.fitting import fit_drift, fit_field, training_data
from si_ref.losses import Batch, sample_batch
from si_ref.progress import shown

from reference import assert_raises_naming

CASE = si_ref.GaussianCase(si_ref.LinearInterpolant(si_ref.BrownianGamma()), si_ref.Gaussian(np.zeros(1), np.eye(1)),
                           si_ref.Gaussian(np.array([2.0]), np.array([[0.25]])))


def relative_error(field, exact, case=CASE):
    """Mean over t in [0.05, 0.95] of the ρ_t-weighted relative L2 error (Monte Carlo, 3000 points each)."""
    rng = np.random.default_rng(9)
    errors = []
    for t in np.linspace(0.05, 0.95, 10):
        batch = sample_batch(case.interpolant, case.base, case.target, 3000, rng)
        x = case.interpolant.interpolant(t, batch.x0, batch.x1, batch.z)
        reference = exact(x, t)
        errors.append(np.sqrt(np.mean(np.sum((field(x, t) - reference) ** 2, 1)) / np.mean(np.sum(reference**2, 1))))
    return float(np.mean(errors))


# measured on this machine: direct 3.4%, velocity-score 2.9% (about 2 s and 4 s)
@pytest.mark.parametrize("via, tolerance", [("direct", 0.06), ("velocity-score", 0.06)])
def test_ridge_drift_fit_reaches_a_few_percent_in_seconds(via, tolerance):
    fitted = fit_drift(CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0), via=via,
                       n_samples=20_000, t_min=1e-3, t_max=1 - 1e-3)
    assert relative_error(fitted, CASE.drift) < tolerance


def test_mlp_drift_fit_reaches_a_stated_error():
    fitted = fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0), method="mlp",
                       n_samples=10_000, t_min=1e-3, t_max=1 - 1e-3, epochs=20, batch_size=256, lr=2e-3)
    assert relative_error(fitted, CASE.drift) < 0.08  # measured about 3% with 40 epochs on 2e4 samples


def test_antithetic_training_data_pairs_plus_and_minus_z():
    batch = sample_batch(CASE.interpolant, CASE.base, CASE.target, 5, np.random.default_rng(1), t_min=0.1, t_max=0.9)
    x, t, y = training_data("noise", CASE.interpolant, batch)
    np.testing.assert_array_equal(t, np.concatenate([batch.t, batch.t]))
    np.testing.assert_array_equal(y, np.vstack([batch.z, -batch.z]))
    np.testing.assert_allclose(x[:5] + x[5:], 2 * CASE.interpolant.interpolant(batch.t, batch.x0, batch.x1, 0 * batch.z))


# --- the defaults ----------------------------------------------------------------------------------

def _rotation(angle):
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


# an anisotropic, correlated, unequal-weight mixture and a non-standard Gaussian base
MIXTURE = si_ref.GaussianMixture(
    np.array([0.45, 0.35, 0.2]), np.array([[-2.0, 1.0], [2.0, 2.0], [0.5, -2.5]]),
    np.stack([_rotation(a) @ np.diag(np.square(s)) @ _rotation(a).T
              for a, s in ((0.4, [0.6, 0.15]), (1.3, [0.4, 0.1]), (2.5, [0.5, 0.2]))]))
SKEWED_BASE = si_ref.Gaussian(np.array([0.5, -1.0]), np.array([[2.0, 0.6], [0.6, 0.5]]))
LINEAR = si_ref.LinearInterpolant(si_ref.BrownianGamma())


@pytest.mark.parametrize("interpolant, base, data_given, reference", [
    (LINEAR, SKEWED_BASE, False, True),
    (LINEAR, None, False, True),                      # fit_field draws x0 ~ N(0, I)
    (LINEAR, None, True, False),                      # user data, law of x0 unknown
    (si_ref.OneSidedLinearInterpolant(), None, True, True),   # one-sided: x0 ~ N(0, I) by convention
    (LINEAR, MIXTURE, False, False),
    (si_ref.MirrorInterpolant(si_ref.BrownianGamma()), None, False, False),
], ids=["gaussian", "none-drawn", "none-with-data", "one-sided-with-data", "mixture-base", "mirror"])
def test_default_recipe_uses_the_reference_targets_exactly_when_the_base_is_a_known_gaussian(
        interpolant, base, data_given, reference):
    recipe = si_ref.fitting.default_recipe(interpolant, base, data_given=data_given)
    assert (recipe.reference_size == 1024) is reference and recipe.weighted is reference
    assert recipe.gaussian_base is reference


def test_default_ridge_fit_of_an_anisotropic_mixture_from_a_skewed_base_reaches_three_percent():
    case = si_ref.GaussianCase(LINEAR, SKEWED_BASE, MIXTURE)
    fitted = fit_drift(LINEAR, SKEWED_BASE, MIXTURE, rng=np.random.default_rng(0), n_samples=40_000)
    assert isinstance(fitted, si_ref.TimeSlicedRidge)
    assert relative_error(fitted, case.drift, case) < 0.03   # measured 1.2% (0.5% at the default 150 000 pairs)


def test_default_fit_falls_back_to_plain_targets_and_fitted_base_mixture_for_a_mixture_base():
    base = si_ref.GaussianMixture(np.array([0.5, 0.5]), np.array([[-1.0], [1.0]]), np.full((2, 1, 1), 0.3))
    target = si_ref.GaussianMixture(np.array([0.3, 0.7]), np.array([[-2.0], [2.5]]), np.array([[[0.2]], [[0.1]]]))
    case = si_ref.GaussianCase(LINEAR, base, target)
    fitted = fit_drift(LINEAR, base, target, rng=np.random.default_rng(1), n_samples=60_000)
    features = fitted.slices_[0].features
    assert features.base.n_components == 2 and features.target.n_components == 2
    assert relative_error(fitted, case.drift, case) < 0.08   # measured 2.6%: the plain targets are noisier


def test_fit_reports_its_steps_and_slices():
    stream = io.StringIO()
    with shown(stream):
        fit_drift(CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0), n_samples=3000)
    text = stream.getvalue()
    assert "fit drift (ridge)" in text and "step 3/3" in text and "slice 12/12" in text


def test_zero_dimensional_time_bounds_are_accepted_and_slices_follow_the_time_range():
    fitted = fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0),
                       n_samples=4000, t_min=np.array(0.3), t_max=np.array(0.9))
    # slices without samples are merged into their neighbours: the first and last slices reach t = 0 and 1
    assert fitted.edges[0] == 0.0 and 0.3 < fitted.edges[1] and fitted.edges[-2] < 0.9 and fitted.edges[-1] == 1.0
    np.testing.assert_allclose(fitted(np.array([[2.0]]), 0.5), CASE.drift(np.array([[2.0]]), 0.5), rtol=0.05)


def test_default_fit_does_not_modify_its_data():
    batch = sample_batch(CASE.interpolant, CASE.base, CASE.target, 3000, np.random.default_rng(2))
    copies = [a.copy() for a in batch]
    fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0), data=batch)
    for a, b in zip(batch, copies):
        np.testing.assert_array_equal(a, b)


class _NoSample:
    pass


BAD = [
    ("unknown-field", lambda: training_data("flow", CASE.interpolant, sample_batch(CASE.interpolant, CASE.base, CASE.target, 3, np.random.default_rng(0))),
     ValueError, ["name must be one of"]),
    ("unknown-method", lambda: fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0), method="gp", n_samples=10),
     ValueError, ["method must be 'ridge' or 'mlp'"]),
    ("no-target", lambda: fit_field("drift", CASE.interpolant, CASE.base, rng=np.random.default_rng(0)), ValueError, ["target is required"]),
    ("unknown-via", lambda: fit_drift(CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0), via="score"), ValueError,
     ["via must be 'direct', 'velocity-score' or 'velocity-noise'"]),
    ("empty-data", lambda: fit_field("noise", CASE.interpolant, data=Batch(np.zeros(0), np.zeros((0, 1)), np.zeros((0, 1)), np.zeros((0, 1))),
                                     rng=np.random.default_rng(0)), ValueError, ["at least one sample"]),
    ("nan-in-data", lambda: fit_field("noise", CASE.interpolant, data=Batch(np.full(2, 0.5), np.full((2, 1), np.nan), np.zeros((2, 1)), np.zeros((2, 1))),
                                      rng=np.random.default_rng(0)), ValueError, ["must contain only finite values"]),
    ("mismatched-shapes", lambda: fit_field("noise", CASE.interpolant, data=Batch(np.full(2, 0.5), np.zeros((2, 1)), np.zeros((3, 1)), np.zeros((2, 1))),
                                            rng=np.random.default_rng(0)), ValueError, ["batch arrays must share n"]),
    ("not-an-interpolant", lambda: fit_drift("linear", CASE.base, CASE.target, rng=np.random.default_rng(0)), TypeError,
     ["interpolant must be a si_ref Interpolant", "str"]),
    ("target-without-sample", lambda: fit_drift(CASE.interpolant, CASE.base, _NoSample(), rng=np.random.default_rng(0)),
     TypeError, ["target must be a distribution with a sample(n, rng) method", "_NoSample"]),
    ("base-without-sample", lambda: fit_field("drift", CASE.interpolant, np.zeros(1), CASE.target, rng=np.random.default_rng(0)),
     TypeError, ["base must be a distribution", "ndarray"]),
    ("n-samples-too-large", lambda: fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0),
                                              n_samples=10**12), ValueError, ["n_samples=1000000000000", "GiB"]),
    ("n-samples-not-integer", lambda: fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0),
                                                n_samples=1.5), TypeError, ["n_samples must be a positive integer"]),
    ("antithetic-string", lambda: fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0),
                                            antithetic="yes"), TypeError, ["antithetic must be True or False", "'yes'"]),
    ("weighted-two", lambda: fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0),
                                       weighted=2), TypeError, ["weighted must be True or False", "2"]),
    ("weighted-none", lambda: fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0),
                                        weighted=None), TypeError, ["weighted must be True or False", "None"]),
    ("reference-size-zero", lambda: fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0),
                                              reference_size=0), ValueError, ["reference_size must be 'auto', None or a positive integer"]),
    ("reference-with-mixture-base", lambda: fit_field("drift", LINEAR, MIXTURE, MIXTURE, rng=np.random.default_rng(0),
                                                      reference_size=16), ValueError, ["need a Gaussian base", "GaussianMixture"]),
    ("reference-with-mirror", lambda: fit_field("noise", si_ref.MirrorInterpolant(si_ref.BrownianGamma()), None, MIXTURE,
                                                rng=np.random.default_rng(0), weighted=True), ValueError,
     ["need a Gaussian base", "mirror"]),
    ("recipe-not-an-interpolant", lambda: si_ref.fitting.default_recipe("linear"), TypeError,
     ["interpolant must be a si_ref Interpolant"]),
    ("fit-drift-unknown-via-first", lambda: fit_drift("linear", via="score", rng=np.random.default_rng(0)), ValueError,
     ["via must be"]),
    ("no-rng", lambda: fit_field("drift", CASE.interpolant, CASE.base, CASE.target, rng=0), TypeError,
     ["rng must be a numpy.random.Generator"]),
    ("mlp-learning-rate-zero", lambda: fit_field("noise", CASE.interpolant, CASE.base, CASE.target, rng=np.random.default_rng(0), method="mlp",
                                                 n_samples=10, lr=0.0), ValueError, ["lr"]),
]


@pytest.mark.parametrize("call, exception, fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_fitting_input_raises_a_clear_message(call, exception, fragments):
    assert_raises_naming(call, exception, fragments)


def test_default_ridge_merges_slices_without_samples_for_gridded_times():
    """User data on a time grid leaves some default slices empty: they are merged, never an error."""
    rng = np.random.default_rng(0)
    interpolant = si_ref.LinearInterpolant(si_ref.BrownianGamma())
    model = si_ref.default_model("ridge", interpolant, rng.normal(size=(500, 1)), rng,
                                 times=np.repeat(np.linspace(0.01, 0.99, 11), 20))
    counts = np.histogram(np.linspace(0.01, 0.99, 11), bins=model.edges)[0]
    assert model.edges[0] == 0.0 and model.edges[-1] == 1.0 and (counts > 0).all()


def test_assembled_drift_fits_each_field_with_its_own_copy_of_a_given_model():
    rng = np.random.default_rng(1)
    interpolant = si_ref.LinearInterpolant(si_ref.BrownianGamma())
    base, target = si_ref.Gaussian(np.zeros(1), np.eye(1)), si_ref.Gaussian(np.ones(1), 0.5 * np.eye(1))
    given = si_ref.RidgeField(si_ref.PolynomialFeatures(1, degree=1, time_degree=2), alpha=1e-8)
    drift = si_ref.fit_drift(interpolant, base, target, rng=rng, via="velocity-score", model=given,
                             n_samples=2000, t_min=0.05, t_max=0.95)
    velocity, score = drift.velocity, drift.score
    assert velocity is not score
    case = si_ref.GaussianCase(interpolant, base, target)
    x = np.linspace(-1.0, 2.0, 7)[:, None]
    # measured errors 0.02 (score) and 0.04 (velocity); the two exact fields differ by up to 2.8 here,
    # so one fit overwritten by the other fails one of these by far
    np.testing.assert_allclose(score(x, 0.5), case.score(x, 0.5), atol=0.1)
    np.testing.assert_allclose(velocity(x, 0.5), case.velocity(x, 0.5), atol=0.1)
