"""diffusers' published DDIM test expectations, reproduced with si_ref's own ``ddim_step`` and schedules.

Source (read, not run, not copied): huggingface/diffusers,
``tests/schedulers/test_scheduler_ddim.py`` (``DDIMSchedulerTest``; same numbers at commits
1cf1528a and 40ef851b) and the fixtures of ``SchedulerCommonTest`` in
``tests/schedulers/test_schedulers.py``:

* ``dummy_sample_deter``: ``arange(768) / 768`` reshaped to (3, 8, 8, 4) and permuted to
  (4, 3, 8, 8); ``dummy_noise_deter``: the same with the arange reversed. The model and
  ``add_noise`` act elementwise, so only the pairing of entries matters; here (4, 192).
* ``dummy_model``: ``sample * t / (t + 1)`` with the integer timestep t.
* config: ``num_train_timesteps=1000``, ``beta_start=0.0001``, ``beta_end=0.02``,
  ``beta_schedule="linear"``, ``clip_sample=True``; DDIMScheduler defaults
  ``set_alpha_to_one=True`` (ᾱ_prev = 1 after timestep 0), ``steps_offset=0``,
  ``timestep_spacing="leading"``, ``clip_sample_range=1.0``, ``use_clipped_model_output=False``.
* the loop: 10 inference steps, η = 0, prev timestep t − 1000 // 10.

What is reproduced, within the tests' own tolerances (|Σ| < 1e-2, mean < 1e-3, variance 1e-5):

=====================================  ==========  ==================
quantity                               published   si_ref (float64)
=====================================  ==========  ==================
full loop, ε-prediction: Σ|x|          172.0067    172.006522
  mean |x|                             0.223967    0.22396683
full loop, v-prediction: Σ|x|          52.5302     52.530124
  mean |x|                             0.0684      0.06839860
β_start = 0.01, set_alpha_to_one       149.8295    149.829460
  mean                                 0.1951      0.19509044
β_start = 0.01, not set_alpha_to_one   149.0784    149.078430
  mean                                 0.1941      0.19411254
with noise (add_noise at t = 100)      354.5418    354.541501
  mean                                 0.4616      0.46164258
_get_variance(420, 400)                0.14771     0.147719513
_get_variance(980, 960)                0.32460     0.324605236
_get_variance(487, 486)                0.00979     0.009791572
_get_variance(999, 998)                0.02        0.019999984
timesteps, 5 steps, steps_offset=1     801 ... 1   801, 601, 401, 201, 1
=====================================  ==========  ==================

The small remaining differences are float32: diffusers accumulates ᾱ as a float32
cumulative product. Doing that (and only that) here gives 172.006706 and 52.530203, the
published digits (checked below). v-prediction enters as ε = a v + σ x (Salimans & Ho 2022,
arXiv:2202.00512, Sec. 4 and Appendix D), then ``ddim_step``; its x̂0 = (x − σε)/a equals
diffusers' a x − σ v. ``clip_sample`` is ``ddim_step(..., clip_denoised=1.0)``, which like
diffusers keeps the model's ε in the direction term.

The EDM σ grid of Karras et al. 2022 (arXiv:2206.00364, eq. (5), Table 1: σ_min = 0.002,
σ_max = 80, ρ = 7, N = 18 for CIFAR-10) has no published list of values; it is checked
against eq. (5) at 50 digits (mpmath) and its published endpoints.
"""

import mpmath
import numpy as np
import pytest

from si_ref.diffusion.discrete import DiscreteSchedule, edm_sigmas, timesteps
from si_ref.diffusion.steps import ddim_step, ddim_variance

NUM_ELEMS = 4 * 3 * 8 * 8


def deterministic(values):
    """diffusers' layout: values reshaped to (C, H, W, B) = (3, 8, 8, 4), permuted to (B, C, H, W), as (4, 192)."""
    return (values / NUM_ELEMS).reshape(3, 8, 8, 4).transpose(3, 0, 1, 2).reshape(4, -1)


SAMPLE = deterministic(np.arange(NUM_ELEMS, dtype=np.float64))             # dummy_sample_deter
NOISE = deterministic(np.arange(NUM_ELEMS, dtype=np.float64)[::-1])       # dummy_noise_deter


def dummy_model(x, t):
    return x * t / (t + 1)


def ddim_loop(schedule, x, steps, *, prediction="epsilon", set_alpha_to_one=True, alphas_cumprod=None, start=0):
    """DDIMScheduler.step over the "leading" timesteps, written with si_ref's ddim_step."""
    abar = schedule.alphas_cumprod if alphas_cumprod is None else alphas_cumprod
    final = 1.0 if set_alpha_to_one else abar[0]
    stride = schedule.num_train_timesteps // len(steps)
    for t in steps[start:]:
        prev = t - stride
        alpha_bar, alpha_bar_prev = abar[t], (abar[prev] if prev >= 0 else final)
        output = dummy_model(x, t)
        if prediction == "v_prediction":                                    # ε = a v + σ x
            output = np.sqrt(alpha_bar) * output + np.sqrt(1 - alpha_bar) * x
        x = ddim_step(output, x, alpha_bar, alpha_bar_prev, eta=0.0, clip_denoised=1.0)
    return x


def summary(x):
    return float(np.abs(x).sum()), float(np.abs(x).mean())


CONFIG = DiscreteSchedule.linear(1000, beta_start=1e-4, beta_end=0.02)
STEPS = timesteps(CONFIG, 10, "leading")


@pytest.mark.parametrize("prediction, total, mean", [("epsilon", 172.0067, 0.223967), ("v_prediction", 52.5302, 0.0684)])
def test_full_loop_no_noise_matches_diffusers(prediction, total, mean):
    ours = summary(ddim_loop(CONFIG, SAMPLE, STEPS, prediction=prediction))
    assert abs(ours[0] - total) < 1e-2 and abs(ours[1] - mean) < 1e-3, ours


@pytest.mark.parametrize("set_alpha_to_one, total, mean", [(True, 149.8295, 0.1951), (False, 149.0784, 0.1941)])
def test_full_loop_with_and_without_set_alpha_to_one_matches_diffusers(set_alpha_to_one, total, mean):
    schedule = DiscreteSchedule.linear(1000, beta_start=0.01, beta_end=0.02)
    ours = summary(ddim_loop(schedule, SAMPLE, timesteps(schedule, 10), set_alpha_to_one=set_alpha_to_one))
    assert abs(ours[0] - total) < 1e-2 and abs(ours[1] - mean) < 1e-3, ours


def test_full_loop_with_noise_matches_diffusers():
    t_start = 8
    level = STEPS[t_start]                                                    # add_noise at timestep 100
    noisy = CONFIG.a[level] * SAMPLE + CONFIG.sigma[level] * NOISE            # x = a x_data + σ ε
    ours = summary(ddim_loop(CONFIG, noisy, STEPS, start=t_start))
    assert abs(ours[0] - 354.5418) < 1e-2 and abs(ours[1] - 0.4616) < 1e-3, ours


@pytest.mark.parametrize("t, prev, expected", [(0, 0, 0.0), (420, 400, 0.14771), (980, 960, 0.32460),
                                               (487, 486, 0.00979), (999, 998, 0.02)])
def test_ddim_variance_matches_diffusers_get_variance(t, prev, expected):
    abar = CONFIG.alphas_cumprod
    assert abs(ddim_variance(abar[t], abar[prev]) - expected) < 1e-5


def test_leading_timesteps_with_steps_offset_match_diffusers():
    np.testing.assert_array_equal(timesteps(CONFIG, 5, "leading", steps_offset=1), [801, 601, 401, 201, 1])


def test_published_digits_are_those_of_a_float32_cumulative_product():
    # torch: betas = linspace(..., dtype=float32); alphas_cumprod = cumprod(1 - betas) in float32
    betas32 = np.linspace(1e-4, 0.02, 1000, dtype=np.float32)
    abar32 = np.cumprod(np.float32(1) - betas32, dtype=np.float32).astype(np.float64)
    eps_total = summary(ddim_loop(CONFIG, SAMPLE, STEPS, alphas_cumprod=abar32))[0]
    v_total = summary(ddim_loop(CONFIG, SAMPLE, STEPS, prediction="v_prediction", alphas_cumprod=abar32))[0]
    assert abs(eps_total - 172.0067) < 2e-5 and abs(v_total - 52.5302) < 2e-5, (eps_total, v_total)
    # while the float64 values sit 1e-4 away: the published digits carry float32 rounding
    assert abs(summary(ddim_loop(CONFIG, SAMPLE, STEPS))[0] - 172.0067) > 1e-4


def test_edm_sigma_grid_for_18_steps_is_karras_eq_5():
    sigmas = edm_sigmas(18, sigma_min=0.002, sigma_max=80.0, rho=7.0)
    with mpmath.workdps(50):
        root = [mpmath.mpf(80) ** (mpmath.mpf(1) / 7), mpmath.mpf("0.002") ** (mpmath.mpf(1) / 7)]
        expected = [float((root[0] + mpmath.mpf(i) / 17 * (root[1] - root[0])) ** 7) for i in range(18)]
    np.testing.assert_allclose(sigmas[:18], expected, rtol=1e-12, atol=0)
    assert sigmas[0] == 80.0 and sigmas[17] == 0.002 and sigmas[18] == 0.0 and sigmas.shape == (19,)
