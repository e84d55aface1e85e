"""The catalogue of convention mistakes: one literal table, name -> explanation and a real-world pattern.

Each quantity lists the *forms* a mistake takes for it (the wrong value it
produces, see :mod:`si_ref.checking.variants`); the names, explanations and
patterns live here only. Conventions (arXiv:2303.08797v3, eqs. (2.1), (2.10),
(2.14), (2.17), (2.21), (2.27)): x_t = α x0 + β x1 + γ z with t = 0 at the
base x0 and t = 1 at the target x1; s = ∇ log ρ_t; η = +E[z | x_t] = −γ s;
v = E[α̇ x0 + β̇ x1 | x_t]; b = v − γγ̇ s; b_F = b + ε s, b_B = b − ε s.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CatalogueEntry", "CATALOGUE", "explanation"]


@dataclass(frozen=True)
class CatalogueEntry:
    """A named convention mistake.

    Attributes
    ----------
    name : str
        Stable identifier, e.g. ``"sign-flip"``.
    explanation : str
        What the mistake is and how to fix it.
    pattern : str
        A way real code produces it.
    """

    name: str
    explanation: str
    pattern: str = ""


CATALOGUE = {entry.name: entry for entry in (
    CatalogueEntry(
        "sign-flip", "the value has the opposite sign of the exact one."),
    CatalogueEntry(
        "gamma-gamma-dot-sign",
        "the γγ̇ term has the wrong sign: the drift is b = v − γγ̇ s (mirror: b = −γγ̇ s, velocity from drift: "
        "v = b + γγ̇ s). Published wrappers used v + γγ̇ s; b = v + γ̇ η with a noise predictor of the opposite "
        "sign gives the same value."),
    CatalogueEntry(
        "noise-sign",
        "the noise predictor has the other sign convention: si_ref's noise is η = +E[z | x_t = x] = −γ s; the "
        "value matches −E[z | x] (or a conversion that assumes it)."),
    CatalogueEntry(
        "velocity-for-drift",
        "the velocity v was given where the drift b was expected: the noise term −γγ̇ s = γ̇ η is missing "
        "(b = v − γγ̇ s)."),
    CatalogueEntry(
        "drift-for-velocity",
        "the drift b was given where the velocity v was expected (a 'velocity' trained on ∂_t I + γ̇ z learns b, "
        "not v = E[∂_t I | x])."),
    CatalogueEntry(
        "noise-term-twice",
        "the noise term is counted twice: b − γγ̇ s = v − 2γγ̇ s, what a wrapper expecting v returns when it is fed "
        "the drift b (a head trained on ∂_t I + γ̇ z)."),
    CatalogueEntry(
        "one-sided-double-count",
        "on a one-sided path (x_t = α x0 + β x1, x0 ~ N(0, I) the noise, γ = 0) the noise term −αα̇ s is already "
        "part of v = α̇ x̂0 + β̇ x̂1; adding it again (α treated as γ as well) counts it twice."),
    CatalogueEntry(
        "time-reversed",
        "time runs the other way (t ↔ 1 − t): si_ref has t = 0 at the base x0 (noise) and t = 1 at the target "
        "x1 (data)."),
    CatalogueEntry(
        "alpha-beta-swapped",
        "the coefficients of x0 and x1 are exchanged (α/σ, signal/noise swapped): si_ref's x_t = α(t) x0 + β(t) x1 "
        "+ γ(t) z has α(0) = 1 multiplying the base x0."),
    CatalogueEntry(
        "score-scaling",
        "the score term is scaled: si_ref's SDE drift is b ± ε s with diffusion √(2ε) (σ²/2 = ε), and the score "
        "is s = ∇ log ρ_t, unscaled."),
    CatalogueEntry(
        "score-term-sign", "the score term has the wrong sign: forward b_F = b + ε s, backward b_B = b − ε s."),
    CatalogueEntry(
        "score-term-missing",
        "the score term ε s of the SDE drift is missing: b_F = b + ε s and b_B = b − ε s, not b (the ODE drift "
        "was used in the SDE)."),
    CatalogueEntry(
        "t-wrong-axis",
        "t of shape (n,) is broadcast along the wrong axis of x (n, d): row i must use t[i]; write "
        "coefficient(t)[:, None] * x."),
    CatalogueEntry(
        "variance-for-std", "the variance γ² was used where the standard deviation γ belongs."),
    CatalogueEntry(
        "factor-two", "off by a factor: γγ̇ = ½ d(γ²)/dt."),
    CatalogueEntry(
        "denoisers-swapped",
        "the other denoiser: x̂0 = E[x0 | x_t = x] and x̂1 = E[x1 | x_t = x] are exchanged."),
    CatalogueEntry(
        "noise-term-missing", "the noise term γ̇ z is missing: d x_t / dt = ∂_t I + γ̇ z."),
    CatalogueEntry(
        "noise-term-included",
        "the noise term γ̇ z is included where ∂_t I = α̇ x0 + β̇ x1 is asked: that is the drift's target "
        "d x_t/dt; the velocity v = E[∂_t I | x_t] is regressed on ∂_t I alone."),
    CatalogueEntry(
        "sqrt-dt", "the Brownian increment is mis-scaled: it is √(2 ε dt) ξ with ξ ~ N(0, I)."),
    CatalogueEntry(
        "diffusion-scaling", "the diffusion coefficient is mis-scaled: dX = b_F dt + √(2ε) dW."),
    CatalogueEntry(
        "density-for-log-density", "the density ρ_t(x) was returned where its logarithm log ρ_t(x) was expected."),
    CatalogueEntry(
        "constant-factor",
        "the values are the exact ones times a constant (the factor is estimated from every failing input): a "
        "head or conversion scaled by a number, e.g. a forgotten normalisation or a σ fixed at one time."),
    CatalogueEntry(
        "gamma-floor",
        "γ is floored near an endpoint where it vanishes (e.g. γ = √(t(1 − t) + δ) or max(γ, δ)): γ(0), γ(1) "
        "are small positive numbers and γ̇ is finite there instead of ±inf; si_ref's values are exact."),
    CatalogueEntry(
        "nan-from-gamma-dot",
        "NaN where γγ̇ is finite: γγ̇ was formed as γ · γ̇ with γ̇ = ±inf and γ = 0 at an endpoint (0 · inf = "
        "NaN); use the closed form of γγ̇ (e.g. (1 − 2t)/2 for γ = √(t(1 − t)))."),
    CatalogueEntry(
        "additive-guard",
        "a small constant δ is added to a denominator (e.g. s = −η/(γ + δ)): the relative error δ/(c + δ) grows "
        "where the divisor c is small. si_ref divides exactly and refuses (ValueError) where c = 0."),
    CatalogueEntry(
        "float32-rounding",
        "the values agree with the exact ones to float32 precision (relative errors of a few 1e-7): the "
        "implementation computes in float32. That is correct code; check it with rtol=1e-5, atol=1e-6 (the "
        "default when it returns float32 arrays)."),
    CatalogueEntry(
        "stage-time",
        "a stage of the step is evaluated at the wrong time: Heun's corrector at t + dt, the midpoint and the "
        "middle RK4 stages at t + dt/2, each at the point the tableau gives."),
    CatalogueEntry(
        "wrong-method", "the step is another method than the one asked for (e.g. an Euler step where Heun's "
        "predictor-corrector is expected)."),
    CatalogueEntry(
        "step-size", "the step uses a mis-scaled step size (dt/2 or 2 dt where dt belongs)."),
    CatalogueEntry(
        "wrong-direction",
        "the ODE was integrated in the wrong direction of time: the log-likelihood of x at t = 1 integrates "
        "dX/dt = b backwards from X_1 = x to t = 0 and subtracts ∫₀¹ ∇·b(X_t, t) dt from log ρ_0(X_0); x is not "
        "a point at t = 0 to be carried forwards (that gives the log density of the sample generated from x)."),
    CatalogueEntry(
        "divergence-sign",
        "the divergence term has the wrong sign: log ρ_1(x) = log ρ_0(X_0) − ∫₀¹ ∇·b(X_t, t) dt along the flow "
        "that ends at x (d/dt log ρ_t(X_t) = −∇·b: the density falls where the flow spreads out)."),
    CatalogueEntry(
        "estimator-scaling",
        "the divergence integral is scaled: a trace estimate (Hutchinson, ξᵀ(∂b/∂x)ξ) summed over its K probes "
        "instead of averaged (a factor K, or d), or the Jacobian's diagonal averaged where it is summed "
        "(∇·b = Σ_i ∂b_i/∂x_i, a factor 1/d)."),
    CatalogueEntry(
        "loss-scaling",
        "the loss is scaled: si_ref's value is the batch mean of ½|f̂ − y|² summed over dimensions; without the "
        "½ it doubles, averaged over dimensions it is divided by d."),
    CatalogueEntry(
        "loss-form",
        "the ½|f̂|² − y·f̂ objective was returned: same minimiser, differs by the constant ½ E|y|². si_ref's loss "
        "value is the mean square ½|f̂ − y|² = ½|f̂|² − y·f̂ + ½|y|²."),
    CatalogueEntry(
        "wrong-target", "the loss regresses on another field's target (e.g. ∂_t I + γ̇ z for the velocity)."),
    # --- the diffusion conventions: x = a x_data + σ ε (VP tables: a = √ᾱ, σ = √(1 − ᾱ)), τ = 0 the data -----
    CatalogueEntry(
        "alpha-bar-for-a",
        "ᾱ = a² was used where a = √ᾱ belongs (or 1 − ᾱ = σ² for σ): a square root is missing. On x = a x_data + "
        "σ ε a VP table gives a = √ᾱ, σ = √(1 − ᾱ); DPM-Solver's λ = log(a/σ) is half the log-SNR log(a²/σ²)."),
    CatalogueEntry(
        "vp-only-formula",
        "a formula valid only on variance-preserving levels (a² + σ² = 1) was used at a level where a² + σ² ≠ 1 "
        "(VE, EDM, rectified flow): from a v-prediction x̂ = (a x − σ v̂)/(a² + σ²) and ε̂ = (σ x + a v̂)/(a² + σ²); "
        "a x − σ v̂ drops the denominator."),
    CatalogueEntry(
        "v-sign",
        "the v-prediction has the opposite sign convention: v = a ε − σ x_data (Salimans & Ho 2022, "
        "v̂ = a ε̂ − σ x̂); σ x_data − a ε is −v."),
    CatalogueEntry(
        "missing-eps-term",
        "the DDIM direction term √(1 − ᾱ_prev − σ_η²) ε̂ is missing: x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev − σ_η²) ε̂ "
        "+ σ_η z (Song et al. 2021, eq. (12)); with an x0-prediction, ε̂ = (x − √ᾱ x̂0)/√(1 − ᾱ) must be formed."),
    CatalogueEntry(
        "eta-variance",
        "the DDIM noise level is mis-scaled: σ_η² = η² (1 − ᾱ_prev)/(1 − ᾱ) (1 − ᾱ/ᾱ_prev) (Song et al. 2021, "
        "eq. (16)) enters the direction as √(1 − ᾱ_prev − σ_η²) and the noise as σ_η z; η for η², or the variance "
        "for its root, changes both."),
    CatalogueEntry(
        "off-by-one",
        "an index is off by one: a level or model output was read at the neighbouring entry of its table (ᾱ_prev "
        "or σ_next at the current step: a step of length 0; the previous model output used as the current one)."),
    CatalogueEntry(
        "shift-twice",
        "the timestep shift σ' = s σ/(1 + (s − 1) σ) was applied to levels that were already shifted (the same as "
        "the shift s²): shift the unshifted grid once."),
    CatalogueEntry(
        "guidance-off-by-one",
        "the guidance strength is off by one: f_u + g (f_c − f_u) (diffusers' guidance_scale g) and (1 + w) f_c − "
        "w f_u (Ho & Salimans' w) agree at g = 1 + w; the value matches the other convention's number used "
        "in this one. Convert with g = 1 + w."),
    CatalogueEntry(
        "guidance-swapped",
        "the conditional and unconditional outputs are exchanged: the value is g f_u + (1 − g) f_c instead of "
        "g f_c + (1 − g) f_u (the halves of a doubled batch unpacked in the wrong order)."),
    CatalogueEntry(
        "guidance-missing",
        "no guidance: the value is the conditional field f_c, what the guided combination gives only at g = 1 "
        "(w = 0)."),
    CatalogueEntry(
        "root-product-order",
        "the OT matrix written through the square root of a product of covariances with the factors in the "
        "wrong order: A = S0⁻¹ (S0 S1)^(1/2) = (S1 S0)^(1/2) S0⁻¹, while S0⁻¹ (S1 S0)^(1/2) = S0⁻¹ A S0 and "
        "(S0 S1)^(1/2) S0⁻¹ = S0 A S0⁻¹ are not even maps of N(m0, S0) onto N(m1, S1) unless S0 and S1 commute."),
    CatalogueEntry(
        "whiten-colour-map",
        "the map x ↦ m1 + S1^(1/2) S0^(−1/2) (x − m0) (whiten with the base covariance, colour with the target's) "
        "pushes N(m0, S0) onto N(m1, S1) but is not the optimal transport map unless S0 and S1 commute; the OT map "
        "is m1 + A (x − m0) with the symmetric A = S0^(−1/2) (S0^(1/2) S1 S0^(1/2))^(1/2) S0^(−1/2)."),
    CatalogueEntry(
        "triangular-map",
        "the map x ↦ m1 + L1 L0⁻¹ (x − m0) with Cholesky factors (the triangular Knothe–Rosenblatt map) pushes "
        "N(m0, S0) onto N(m1, S1) but is not the optimal transport map unless the covariances are diagonal; the "
        "OT map's matrix is symmetric: A = S0^(−1/2) (S0^(1/2) S1 S0^(1/2))^(1/2) S0^(−1/2)."),
    CatalogueEntry(
        "condition-dropped",
        "the conditioning c was not passed on: the value is the unconditional field E[· | x_t = x] instead of the "
        "conditional one given c. A wrapper must call its input fields f(x, t, c) when it is called with c."),
)}


def explanation(name: str) -> str:
    """The explanation of catalogued mistake ``name``."""
    return CATALOGUE[name].explanation
