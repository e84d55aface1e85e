"""A way real code produces each catalogued mistake (one pattern each, with where it was seen).

The table of the README's "mistake catalogue" section is this one; ``tests/test_checking_catalogue.py``
keeps the two equal and checks that every name of :data:`si_ref.checking.mistakes.CATALOGUE` has a
pattern. Sources are repositories and files, or issue and pull-request addresses; a pattern marked
"(generic)" is how the mistake typically arises, with no single report to cite.
"""

__all__ = ["PATTERNS"]

#: name -> (pattern, source)
PATTERNS = {
    "additive-guard": (
        "torchcfm divides by (σ_t + 1e-8) in the runner's calc_u and uses λ_t = 2σ_t/(σ² + 1e-8). The "
        "additive guard biases values wherever σ is small.",
        "atong01/conditional-flow-matching runner/src/models/cfm_module.py; "
        "torchcfm/conditional_flow_matching.py (compute_lambda)"),
    "alpha-bar-for-a": (
        "diffusers #7046 read Euler's v-prediction line as x̂ = ᾱ x − √(1 − ᾱ) v, \"missing a square root\"; "
        "it is right there only because the sample was divided by √(σ² + 1) first. The same line on an "
        "unscaled x, or alphas_cumprod where its root belongs, uses ᾱ = a² for a.",
        "https://github.com/huggingface/diffusers/issues/7046; "
        "https://github.com/jcwang-gh/classifier-free-diffusion-guidance-Pytorch/issues/12"),
    "alpha-beta-swapped": (
        "In SiT, compute_alpha_t is the data (x1) coefficient and compute_sigma_t the noise (x0) coefficient."
        " Reading SiT's α_t as si_ref's α (the base coefficient) swaps α and β.",
        "willisma/SiT transport/path.py"),
    "condition-dropped": (
        "torchcfm's torch_wrapper, the adapter to torchdyn's ODE solvers, has forward(self, t, x, *args, **kwargs) "
        "and calls the model on (x, t) alone: a class label handed to the solver is swallowed by *args, so a "
        "conditional model is integrated unconditionally.",
        "atong01/conditional-flow-matching torchcfm/utils.py (torch_wrapper)"),
    "guidance-missing": (
        "diffusers pipelines run the classifier-free combination only when do_classifier_free_guidance "
        "(guidance_scale > 1); a guidance_scale of 1 or less, or a code path that skips the doubled batch, "
        "returns the conditional output unguided whatever strength was asked for.",
        "huggingface/diffusers src/diffusers/pipelines/stable_diffusion/pipeline_stable_diffusion.py "
        "(do_classifier_free_guidance)"),
    "guidance-off-by-one": (
        "diffusers documents guidance_scale both as the w of Classifier-Free Diffusion Guidance (arXiv 2207.12598, "
        "whose eq. (6) is (1 + w) ε_c − w ε_u) and as the w of Imagen's eq. 2 (w ε_c + (1 − w) ε_u), and "
        "implements the latter; a port that follows the first reference is off by one.",
        "huggingface/diffusers src/diffusers/pipelines/stable_diffusion/pipeline_stable_diffusion.py "
        "(the guidance_scale docstring)"),
    "guidance-swapped": (
        "diffusers concatenates [negative_prompt_embeds, prompt_embeds] and unpacks noise_pred.chunk(2) as "
        "(uncond, text); code that builds the batch as [cond, uncond] but keeps the unpacking exchanges "
        "the two outputs. (generic)",
        "huggingface/diffusers src/diffusers/pipelines/stable_diffusion/pipeline_stable_diffusion.py"),
    "root-product-order": (
        "The Gaussian OT matrix is often coded without symmetric roots as inv(S0) @ sqrtm(S0 @ S1); with the "
        "product under sqrtm reversed (sqrtm(S1 @ S0)), or the inverse moved to the other side, the map is "
        "conjugated by S0 and no longer transports the base onto the target. (generic)",
        "(generic; the closed form A = S0⁻¹ (S0 S1)^(1/2): Peyré & Cuturi, Computational Optimal Transport, "
        "Remark 2.31)"),
    "triangular-map": (
        "Linear colour transfer maps the source colour distribution onto the target's with Cholesky factors, "
        "L_t L_s⁻¹; Pitié & Kokaram compare it with the Monge–Kantorovich (OT) map, which it is not.",
        "Pitié & Kokaram, The linear Monge-Kantorovitch linear colour mapping for example-based colour transfer, "
        "CVMP 2007"),
    "whiten-colour-map": (
        "The whitening and colouring transform of universal style transfer (WCT) maps content features with "
        "E_s D_s^{1/2} E_sᵀ E_c D_c^{-1/2} E_cᵀ = S_s^{1/2} S_c^{-1/2}; it matches the covariance but is not "
        "the Wasserstein-optimal map (Mroueh 2019 replaces it by the OT map).",
        "Li et al., Universal Style Transfer via Feature Transforms, NeurIPS 2017; Mroueh, Wasserstein Style "
        "Transfer, arXiv:1905.12828"),
    "constant-factor": (
        "The SD1.5 VAE latent scale 0.18215 was hard-coded while an SDXL VAE (factor 0.13025) was used, so "
        "predicted fields are off by a fixed ratio of ≈1.40.",
        "https://github.com/hpcaitech/Open-Sora/issues/494"),
    "denoisers-swapped": (
        "In diffusers/score_sde, pred_original_sample (\"x_0\") is the clean data, while si_ref's x0 is the "
        "base noise. Mapping it to x̂0 exchanges x̂0 = E[x0|x] with x̂1 = E[x1|x].",
        "huggingface/diffusers src/diffusers/schedulers/scheduling_ddpm.py"),
    "density-for-log-density": (
        "Users exponentiate the CNF log-likelihood and average the probabilities, which underflow to 0. A "
        "\"log p\" API that returns ρ = exp(log ρ) is the same mistake.",
        "https://github.com/atong01/conditional-flow-matching/issues/129"),
    "diffusion-scaling": (
        "The VE-SDE diffusion was documented as g(t) = σ_min(σ_max/σ_min)^t, missing the factor √(2 "
        "log(σ_max/σ_min)). In si_ref terms the diffusion is not √(2ε).",
        "https://github.com/deepinv/deepinv/issues/775"),
    "divergence-sign": (
        "score_sde uses log p0(x) = log pT(z) + ∫₀ᵀ ∇·f̃ dt with t = 0 at the data. Porting this \"+∫\" to "
        "si_ref's clock (noise at 0) without flipping it gives +∫∇·b where −∫∇·b belongs.",
        "yang-song/score_sde_pytorch likelihood.py"),
    "drift-for-velocity": (
        "A network trained with loss_b (target ∂_t I + γ̇ z) learns b. Exporting or wrapping it as \"the "
        "velocity\" hands b to code that expects v = E[∂_t I ∣ x].",
        "malbergo/stochastic-interpolants interflow/stochastic_interpolant.py (loss_per_sample_b) (a "
        "combination inferred from this code; no report found)"),
    "estimator-scaling": (
        "BayesFlow's _hutchinson summed `steps` single-probe trace estimates without dividing by steps, so "
        "the divergence scaled with the number of probes.",
        "https://github.com/bayesflow-org/bayesflow/issues/772"),
    "eta-variance": (
        "A DDIM inversion step writes the direction as (1 − ᾱ_prev − η·variance)^½ ε̂ while its noise is "
        "η √variance: η where the paper's σ_η² = η² σ_1² has η².",
        "https://github.com/inbarhub/DDPM_inversion/issues/12"),
    "factor-two": (
        "score_sde writes the noise term as g² s·(0.5 if probability_flow else 1). Taking the reverse-SDE g² "
        "s for the ODE, or reading g² = d(σ²)/dt as σσ̇, puts γγ̇ off by 2 (γγ̇ = ½ d(γ²)/dt).",
        "yang-song/score_sde_pytorch sde_lib.py (SDE.reverse)"),
    "float32-rounding": (
        "A PyTorch model runs in float32 (the default dtype) and its outputs are compared with float64 values"
        " at rtol = 1e-6: correct code fails at the float32 ulp level.",
        "(generic; related: huggingface/diffusers PR 3005, float32 alphas_cumprod)"),
    "gamma-floor": (
        "The SB-CFM target uses γ̇/γ = (1 − 2t)/(2t(1 − t) + 1e-8), a floored γ². It is finite at t = 0 and t"
        " = 1 where it should be ±∞. Many ports also write γ = σ√(t(1 − t) + 1e-8).",
        "atong01/conditional-flow-matching torchcfm/conditional_flow_matching.py "
        "(SchrodingerBridgeConditionalFlowMatcher)"),
    "gamma-gamma-dot-sign": (
        "The README says η = −γ s, but the code's η objective ½|η|² + η·z learns η = −E[z|x] = +γ s. Writing "
        "b = v + γ̇η with that η gives v + γγ̇ s.",
        "malbergo/stochastic-interpolants README.md + interflow/stochastic_interpolant.py "
        "(loss_per_sample_eta) (a combination inferred from this code; no report found)"),
    "loss-form": (
        "malbergo/stochastic-interpolants writes the objectives as ½|f|² − y·f, torchcfm as mean((f − y)²): a"
        " value compared across the two differs by ½E|y|² and a factor.",
        "malbergo/stochastic-interpolants interflow/stochastic_interpolant.py; "
        "atong01/conditional-flow-matching"),
    "loss-scaling": (
        "score_sde's reduce_op is a mean over dimensions if reduce_mean, else ½·sum. malbergo's ½|f|² − y·f "
        "differs from torchcfm's mean((f − y)²) by a factor and a constant.",
        "yang-song/score_sde_pytorch losses.py; malbergo/stochastic-interpolants "
        "interflow/stochastic_interpolant.py"),
    "missing-eps-term": (
        "DDIM needs ε̂ in its direction term √(1 − ᾱ_prev − σ²) ε̂ even for an x0-prediction model. "
        "DDIMScheduler with prediction_type='sample' never formed pred_epsilon (fixed by computing it from "
        "x̂0); code that skips the term returns √ᾱ_prev x̂0.",
        "https://github.com/huggingface/diffusers/issues/1486; https://github.com/huggingface/diffusers/pull/2094"),
    "nan-from-gamma-dot": (
        "The reference code ships a separate gg_dot \"to avoid numerical divide by 0s\". Ports that form γγ̇ as"
        " gamma(t)*gamma_dot(t) with brownian γ̇ = (1 − 2t)/(2√(t(1 − t))) get 0·∞ = NaN at t = 0.",
        "malbergo/stochastic-interpolants interflow/fabrics.py (make_gamma)"),
    "noise-sign": (
        "SFromEta computes s = η/γ for an η trained with ½|η|² + η·z, so η = −E[z|x_t]. That is the opposite "
        "of si_ref's η = +E[z|x_t] = −γ s.",
        "malbergo/stochastic-interpolants interflow/stochastic_interpolant.py (SFromEta, loss_per_sample_eta)"),
    "noise-term-included": (
        "SB-CFM's compute_conditional_flow adds σ̇_t/σ_t (x_t − μ_t) = γ̇ z to x1 − x0 and calls the sum the "
        "conditional velocity. The regression target is then ∂_t I + γ̇ z.",
        "atong01/conditional-flow-matching torchcfm/conditional_flow_matching.py"),
    "noise-term-missing": (
        "torchcfm's base ConditionalFlowMatcher.compute_conditional_flow returns x1 − x0 and ignores t and "
        "x_t. A subclass with a time-dependent compute_sigma_t that does not override it drops γ̇ z from "
        "dx_t/dt.",
        "atong01/conditional-flow-matching torchcfm/conditional_flow_matching.py (pattern in the API) (a "
        "combination inferred from this code; no report found)"),
    "noise-term-twice": (
        "The b model from loss_b is fed into BFromVS(v, s, gg_dot), which subtracts γγ̇ s a second time and "
        "returns v − 2γγ̇ s.",
        "malbergo/stochastic-interpolants interflow/stochastic_interpolant.py (BFromVS + loss_per_sample_b) "
        "(a combination inferred from this code; no report found)"),
    "off-by-one": (
        "Early diffusers DDIM read alpha_prod_t_prev = alphas_cumprod[prev_timestep + offset]: with offset 1 "
        "and a stride of 1 that is the current step's ᾱ, a step of length 0.",
        "https://github.com/huggingface/diffusers/issues/465"),
    "one-sided-double-count": (
        "For one-sided paths the README uses η = −α s, so α plays the role of γ. The v from loss_v on x_t = "
        "(1 − t)x0 + t x1 already contains α̇x0; adding −αα̇ s on top counts the noise term twice.",
        "malbergo/stochastic-interpolants README.md + interflow/fabrics.py ('one-sided-linear') (a "
        "combination inferred from this code; no report found)"),
    "score-scaling": (
        "torchcfm's SF2M score net is trained with (λ_t s_θ + ε)², λ_t = 2σ_t/σ², so s_θ = (σ²/2)∇log p "
        "(\"score field is −g²/2 ∇log p\"). Using it as s and then adding ε s scales it twice.",
        "atong01/conditional-flow-matching examples/2D_tutorials/SF2M_tutorial.ipynb; "
        "runner/src/models/components/solver.py"),
    "score-term-missing": (
        "The stochastic-interpolant SDE sampler adds Euler–Maruyama noise around the learned velocity/drift "
        "with no +ε s correction. A reviewer calls it heuristic noise injection.",
        "https://github.com/ecmwf/anemoi-core/pull/1096"),
    "score-term-sign": (
        "The torchcfm MNIST notebooks' SDE drift returned drift + score where the issue says drift − score. "
        "The score term's sign depends on the direction of integration.",
        "https://github.com/atong01/conditional-flow-matching/issues/85"),
    "shift-twice": (
        "FlowMatchEulerDiscreteScheduler stored sigma_min/sigma_max after shifting them, and set_timesteps "
        "rebuilt the grid from them and shifted it again: σ shifted twice (shift s²).",
        "https://github.com/huggingface/diffusers/issues/13243"),
    "sign-flip": (
        "Diffusers SD3/Flux flow-matching code trains on target = noise − x_data, which is d/dσ with σ = 1 at"
        " the noise. A wrapper that maps σ = 1 − t but does not negate returns −v.",
        "huggingface/diffusers examples/dreambooth/train_dreambooth_sd3.py"),
    "sqrt-dt": (
        "SGLD/Langevin code scaled the Gaussian noise by the step size lr (or dt) instead of √lr, so the "
        "Brownian increment's variance is off by a factor of dt.",
        "https://github.com/JavierAntoran/Bayesian-Neural-Networks/issues/17"),
    "stage-time": (
        "HeunDiscreteScheduler evaluated the second-order stage with sigma_hat (the current level) instead of"
        " sigma_next, unlike k-diffusion's model(x_2, sigmas[i+1]).",
        "https://github.com/huggingface/diffusers/pull/1512"),
    "step-size": (
        "A sampler loop passes dt/2 to a midpoint helper that halves it again, or steps with the spacing of a"
        " grid of n + 1 points as if it had n.",
        "(generic)"),
    "t-wrong-axis": (
        "compute_mu_t multiplied a (B,) t straight into x (t * x1). It crashed on image batches and "
        "pad_t_like_x was added; for x of shape (n, d) with n == d it broadcasts silently along the feature "
        "axis.",
        "https://github.com/atong01/conditional-flow-matching/issues/71"),
    "time-reversed": (
        "A model trained on the diffusion clock (score_sde/diffusers: t = 0 data, t = 1 noise) is evaluated "
        "at si_ref's t with no t ↦ 1 − t. LightningDiT #89 shows the opposite bug: v(x, 1 − t) also run with "
        "decreasing t.",
        "https://github.com/hustvl/LightningDiT/issues/89; yang-song/score_sde_pytorch sde_lib.py"),
    "v-sign": (
        "The first v-prediction support of diffusers' DPM-Solver wrote x0_pred = alpha_t * sample + "
        "sigma_t * model_output; the review corrected it to α x − σ v. The '+' reads v as σ x̂ − a ε̂.",
        "https://github.com/huggingface/diffusers/pull/1421"),
    "variance-for-std": (
        "add_noise multiplied N(0,1) by the variance instead of by √variance, so the noise std came out as σ²"
        " instead of σ.",
        "https://github.com/google-deepmind/optax/issues/281"),
    "velocity-for-drift": (
        "A v model trained with loss_v (target ∂_t I) is passed as `b` to PFlowIntegrator/SDEIntegrator, so "
        "the γ̇η = −γγ̇ s term is dropped. SiT's velocity_ode does the same, which is only valid because its "
        "γ = 0.",
        "malbergo/stochastic-interpolants interflow/stochastic_interpolant.py; willisma/SiT "
        "transport/transport.py (a combination inferred from this code; no report found)"),
    "vp-only-formula": (
        "DPM-Solver's v-prediction uses x̂0 = α x − σ v, right on its VP schedules (α² + σ² = 1). Reused with "
        "VE/EDM σ's or flow-matching sigmas (a review asks if v_prediction with use_flow_match makes sense), "
        "it drops 1/(α² + σ²).",
        "huggingface/diffusers PR 1421 (review: x0 = alpha * x - sigma * v) and PR 10001 (review) (a "
        "combination inferred from this code; no report found)"),
    "wrong-direction": (
        "flow_matching's compute_likelihood asserts that time_grid runs 1.0 → 0.0 (data → base). Forks or "
        "wrappers that relax this and integrate 0 → 1 from x1 compute the likelihood in the wrong direction.",
        "facebookresearch/flow_matching flow_matching/solver/ode_solver.py (compute_likelihood)"),
    "wrong-method": (
        "EDM/k-diffusion Heun takes a plain Euler step when σ_next = 0, and anemoi-core made its last Heun "
        "step Euler on purpose. A corrector skipped like this, or by a guard that always fires, is Euler.",
        "https://github.com/ecmwf/anemoi-core/pull/1182"),
    "wrong-target": (
        "A noise head is trained on the score target −z/γ, or a velocity head on the drift's target ∂_t I + "
        "γ̇ z copied from another objective.",
        "(generic)"),
}
