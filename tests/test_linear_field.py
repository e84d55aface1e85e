"""The linear field of the golden vectors: its exact flow and density against a numerical flow."""

import numpy as np

from si_ref.checking.linear_field import LinearField
from si_ref.samplers import integrate_reference

FIELD = LinearField([[-0.5, 0.3], [-0.2, -0.8]], [0.4, -0.1])


def test_the_affine_flow_is_the_numerical_flow():
    x0 = np.random.default_rng(3).standard_normal((5, 2))
    x1 = integrate_reference(FIELD.drift, x0, 0.0, 1.0, rtol=1e-12, atol=1e-12).states[-1]
    phi, v = FIELD.flow(1.0)
    np.testing.assert_allclose(x1, x0 @ phi.T + v, rtol=1e-10, atol=1e-11)


def test_the_log_density_changes_by_minus_the_integrated_divergence_along_the_flow():
    """log ρ_1(X_1) = log ρ_0(X_0) − ∫ tr A dt: the instantaneous change of variables."""
    x0 = np.random.default_rng(4).standard_normal((5, 2))
    x1 = integrate_reference(FIELD.drift, x0, 0.0, 1.0, rtol=1e-12, atol=1e-12).states[-1]
    expected = FIELD.log_density(x0, 0.0) - np.trace(FIELD.A)
    np.testing.assert_allclose(FIELD.log_density(x1, 1.0), expected, rtol=1e-10)
    np.testing.assert_allclose(FIELD.log_density(x0, 0.0), -0.5 * np.sum(x0**2, axis=1) - np.log(2 * np.pi), rtol=1e-14)
