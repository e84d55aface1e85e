r"""A small multilayer perceptron with hand-written backpropagation, Adam, and an MLP field.

Everything here is NumPy and readable in one sitting: each layer keeps its
``forward`` and its ``backward`` side by side, and the backward rule is the
chain rule written out for that layer. There is no autodiff.

Convention: points are rows, so a linear layer is :math:`z = h W + b` with
``h`` of shape (n, fan_in), ``W`` of shape (fan_in, fan_out) and ``b`` of
shape (fan_out,). With :math:`h_0` the inputs, :math:`\varphi` the activation
and L layers,

.. math::

    z_l = h_{l-1} W_l + b_l, \qquad h_l = \varphi(z_l) \quad (l < L), \qquad
    \text{outputs} = z_L .

Backward, given :math:`G_L = \partial\mathcal L / \partial z_L` (shape (n, out_dim)):

.. math::

    \frac{\partial\mathcal L}{\partial W_l} = h_{l-1}^\top G_l, \qquad
    \frac{\partial\mathcal L}{\partial b_l} = \sum_{i} (G_l)_{i,:}, \qquad
    G_{l-1} = (G_l W_l^\top) \odot \varphi'(z_{l-1}).

Performance: every layer keeps its activation and gradient buffers and
reuses them while the batch size does not exceed the largest one seen
(smaller batches use the leading rows), so a training loop allocates almost
nothing per step. Matrix products write into those buffers (``np.matmul(...,
out=...)``), the bias gradient is the product :math:`1^\top G` (BLAS, several
times faster than ``np.sum`` over rows), activation derivatives are formed in
place, and :meth:`MLPField.fit` gathers each minibatch into reused buffers. In
float32 mode parameters, buffers, gradients and Adam moments are all float32:
scalars in the hot loop are Python floats, which NumPy does not let upcast an
array. What remains at large batches is the matrix products, which run at the
BLAS rate, and about ten single-threaded elementwise passes per hidden layer
(``si_ref/validation/benchmarks/mlp_step.py`` measures the step against PyTorch).
Splitting those passes over Python threads was measured not to help: after
every product OpenBLAS's worker threads keep spinning on the other cores.

For batches of a few hundred points the matrices are small, and BLAS
multithreading costs more than it saves (on a busy 2-core machine it was
1.7x slower per step, with stalls of milliseconds): set
``OPENBLAS_NUM_THREADS=1`` (or use ``threadpoolctl``) when training.

The buffers stay internal: :meth:`MLP.forward`, :meth:`MLP.backward` and
:meth:`MLP.gradients` return fresh arrays (the training loop uses the private
buffer-returning passes ``_forward`` and ``_backward``); only the documented
live arrays ``flat_parameters`` and ``flat_gradients`` (what the flat
:class:`Adam` steps) are shared. :class:`MLPField` (the user-facing field)
returns fresh float64 arrays.

Randomness (initialisation, minibatch order) comes only from a
``numpy.random.Generator``: same seed, bit-identical weights and history.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._checks import (as_bool, as_points, as_real_scalar, as_times, check_rng, renamed_keyword, sample_weights,
                      time_column)
from .adam import Adam
from .progress import task
from .threads import with_blas_threads

__all__ = [
    "time_features",
    "Linear",
    "SiLU",
    "Tanh",
    "ACTIVATIONS",
    "MLP",
    "Adam",
    "MLPField",
    "flatten",
    "unflatten",
]

#: :meth:`MLPField.predict` evaluates at most this many points per forward pass,
#: so predicting on a huge batch does not grow the training buffers without bound.
PREDICT_CHUNK = 4096


# --- small validators -------------------------------------------------------------------------

def _positive_int(value, name: str, example: int) -> int:
    """An integer >= 1 (bool rejected), or a TypeError/ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer >= 1; received {value!r} of type {type(value).__name__}. "
            f"Pass e.g. {name}={example}."
        )
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1; received {name}={value!r}. Pass e.g. {name}={example}.")
    return int(value)


def _n_frequencies(value) -> int:
    """An integer K >= 0 (bool rejected), or a TypeError/ValueError naming n_frequencies."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"n_frequencies must be an integer >= 0; received {value!r} of type {type(value).__name__}. "
            f"Pass e.g. n_frequencies=4."
        )
    if value < 0:
        raise ValueError(f"n_frequencies must be >= 0; received n_frequencies={value!r}. Pass e.g. n_frequencies=4.")
    return int(value)


def _float_dtype(dtype) -> np.dtype:
    """np.float32 or np.float64 (as a np.dtype), else a ValueError naming ``dtype``."""
    try:
        out = np.dtype(dtype)
    except TypeError:
        out = None
    if out not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"dtype must be np.float32 or np.float64; received {dtype!r}. "
            f"Pass dtype=np.float64 (default) or dtype=np.float32 for faster training."
        )
    return out


def _widths(widths) -> tuple[int, ...]:
    if isinstance(widths, numbers.Integral) or not hasattr(widths, "__iter__"):
        raise TypeError(
            f"widths must be a sequence of hidden-layer widths; received {widths!r}. "
            f"Pass e.g. widths=(64, 64, 64), or widths=() for a linear model."
        )
    return tuple(_positive_int(w, f"widths[{i}]", 64) for i, w in enumerate(widths))


def _rows(buffers: dict, key: str, n: int, columns: int, dtype: np.dtype) -> np.ndarray:
    """A reusable (n, columns) buffer: the leading n rows of the largest one allocated so far.

    Leading rows of a C-contiguous array are C-contiguous, so the view is a
    valid ``out=`` target for ``np.matmul``.
    """
    buf = buffers.get(key)
    if buf is None or buf.shape[0] < n:
        buf = np.empty((n, columns), dtype=dtype)
        buffers[key] = buf
    return buf[:n]


def _ones(buffers: dict, n: int, dtype: np.dtype) -> np.ndarray:
    """A reusable vector of n ones: the leading n entries of the longest one allocated so far."""
    buf = buffers.get("ones")
    if buf is None or buf.shape[0] < n:
        buf = np.ones(n, dtype=dtype)
        buffers["ones"] = buf
    return buf[:n]


# --- time features --------------------------------------------------------------------------

def _time_features(t: np.ndarray, n_frequencies: int) -> np.ndarray:
    """time_features for already validated float64 times of shape (n,)."""
    k = np.arange(1, n_frequencies + 1, dtype=np.float64)
    angles = (2.0 * np.pi) * t[:, None] * k[None, :]       # (n, K): 2πk t
    return np.concatenate([t[:, None], np.sin(angles), np.cos(angles)], axis=1)


def time_features(t, n_frequencies: int) -> np.ndarray:
    r"""Fourier features of the time, the network's view of t.

    .. math::

        \phi(t) = \big(t,\ \sin(2\pi t), \ldots, \sin(2\pi K t),\
        \cos(2\pi t), \ldots, \cos(2\pi K t)\big)

    The raw t is kept so that t = 0 and t = 1 (where every sine and cosine
    agree) stay distinguishable. ``n_frequencies = 0`` gives the column t alone.

    Parameters
    ----------
    t : array_like, shape (n,)
        Times in [0, 1].
    n_frequencies : int
        K >= 0, the number of frequencies.

    Returns
    -------
    ndarray, shape (n, 1 + 2K), float64
        Columns ordered as above: t, then the K sines, then the K cosines.

    Raises
    ------
    TypeError
        For non-real times or a non-integer ``n_frequencies``.
    ValueError
        For times outside [0, 1], NaN/inf, a shape other than (n,), or K < 0.
    """
    times = as_times(t)
    if times.ndim != 1:
        raise ValueError(
            f"t must have shape (n,); received shape {times.shape}. "
            f"For a single time use np.atleast_1d(t); for a column use t.ravel()."
        )
    return _time_features(times, _n_frequencies(n_frequencies))


# --- layers: forward and backward side by side ------------------------------------------------

class Linear:
    r"""Affine layer :math:`z = h W + b`.

    Parameters
    ----------
    W : ndarray, shape (fan_in, fan_out)
    b : ndarray, shape (fan_out,)
        Held by reference and updated in place by the optimiser.
    needs_grad_input : bool
        Whether :meth:`backward` returns :math:`\partial\mathcal L/\partial h`
        (the first layer of a network does not need it, saving one product).
    dW, db : ndarray, optional
        Arrays to hold the gradients (e.g. views into one flat vector); new zeros by default.

    Attributes
    ----------
    dW, db : ndarray
        Gradients from the last :meth:`backward`, same shapes as W and b.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, *, needs_grad_input: bool = True, dW=None, db=None):
        self.W, self.b = W, b
        self.dW = np.zeros_like(W) if dW is None else dW
        self.db = np.zeros_like(b) if db is None else db
        self.needs_grad_input = needs_grad_input
        self._buffers: dict = {}
        self._h = None

    def forward(self, h: np.ndarray) -> np.ndarray:
        # z = h W + b, shapes (n, fan_in) @ (fan_in, fan_out) + (fan_out,)
        self._h = h                                   # kept for dW = hᵀ G
        z = _rows(self._buffers, "z", h.shape[0], self.W.shape[1], self.W.dtype)
        np.matmul(h, self.W, out=z)
        z += self.b
        return z

    def backward(self, grad_z: np.ndarray) -> np.ndarray | None:
        # ∂L/∂W = hᵀ G,  ∂L/∂b = Σ_rows G = 1ᵀ G,  ∂L/∂h = G Wᵀ
        np.matmul(self._h.T, grad_z, out=self.dW)
        # 1ᵀ G is a BLAS matrix-vector product: 4x (wide G) to 20x (narrow G) faster than np.sum over rows
        np.matmul(_ones(self._buffers, grad_z.shape[0], self.W.dtype), grad_z, out=self.db)
        if not self.needs_grad_input:
            return None
        grad_h = _rows(self._buffers, "grad_h", grad_z.shape[0], self.W.shape[0], self.W.dtype)
        return np.matmul(grad_z, self.W.T, out=grad_h)


class SiLU:
    r"""SiLU (swish) :math:`\varphi(z) = z\,\sigma(z)`, with
    :math:`\varphi'(z) = \sigma(z)\,(1 + z(1 - \sigma(z))) = \sigma + \varphi\,(1 - \sigma)`.

    The logistic function is evaluated as :math:`\sigma(z) = \tfrac12(1 + \tanh(z/2))`,
    which never overflows (no ``exp`` of a large argument) and keeps the dtype.
    """

    def __init__(self):
        self._buffers: dict = {}
        self._sigma = self._out = None

    def forward(self, z: np.ndarray) -> np.ndarray:
        # σ = ½(1 + tanh(z/2)),  φ = z σ
        sigma = _rows(self._buffers, "sigma", *z.shape, z.dtype)
        np.multiply(z, 0.5, out=sigma)
        np.tanh(sigma, out=sigma)
        sigma += 1.0
        sigma *= 0.5
        out = _rows(self._buffers, "out", *z.shape, z.dtype)
        np.multiply(z, sigma, out=out)
        self._sigma, self._out = sigma, out
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # ∂L/∂z = ∂L/∂φ ⊙ φ'(z),  φ' = σ + φ (1 − σ), formed in place in one buffer
        grad_z = _rows(self._buffers, "grad_z", *grad_out.shape, grad_out.dtype)
        np.subtract(1.0, self._sigma, out=grad_z)
        grad_z *= self._out
        grad_z += self._sigma
        grad_z *= grad_out
        return grad_z


class Tanh:
    r"""Hyperbolic tangent :math:`\varphi(z) = \tanh z`, with :math:`\varphi'(z) = 1 - \varphi^2`."""

    def __init__(self):
        self._buffers: dict = {}
        self._out = None

    def forward(self, z: np.ndarray) -> np.ndarray:
        # φ = tanh z
        out = _rows(self._buffers, "out", *z.shape, z.dtype)
        self._out = np.tanh(z, out=out)
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # ∂L/∂z = ∂L/∂φ ⊙ (1 − φ²), formed in place in one buffer
        grad_z = _rows(self._buffers, "grad_z", *grad_out.shape, grad_out.dtype)
        np.multiply(self._out, self._out, out=grad_z)
        np.subtract(1.0, grad_z, out=grad_z)
        grad_z *= grad_out
        return grad_z


#: Activation names accepted by :class:`MLP` and :class:`MLPField`.
ACTIVATIONS = {"silu": SiLU, "tanh": Tanh}


# --- parameter vectors ------------------------------------------------------------------------

def _views(vector: np.ndarray, shapes) -> list[np.ndarray]:
    """Consecutive views of a 1-D vector with the given shapes (C order), sharing its memory."""
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(vector[start:start + size].reshape(shape))
        start += size
    return out


def flatten(arrays) -> np.ndarray:
    """Concatenate arrays (e.g. :meth:`MLP.parameters` or gradients) into a new 1-D array.

    The order is the list order, each array in C order; :func:`unflatten` inverts it.
    """
    arrays = list(arrays)
    if not arrays:
        raise ValueError("arrays must contain at least one array; received an empty sequence.")
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def unflatten(vector, like) -> list[np.ndarray]:
    """Split a 1-D vector into new arrays with the shapes and dtypes of ``like``.

    Parameters
    ----------
    vector : array_like, shape (sum of sizes,)
    like : sequence of ndarray
        Templates, e.g. :meth:`MLP.parameters`.

    Raises
    ------
    ValueError
        If ``vector`` is not 1-D or its length is not the total size of ``like``.
    """
    vector = np.asarray(vector)
    like = list(like)
    total = sum(a.size for a in like)
    if vector.ndim != 1 or vector.size != total:
        raise ValueError(
            f"vector must have shape ({total},), the total size of the templates; received shape "
            f"{vector.shape}. Build it with flatten(...) from arrays of the same shapes."
        )
    out, start = [], 0
    for a in like:
        out.append(vector[start:start + a.size].reshape(a.shape).astype(a.dtype, copy=True))
        start += a.size
    return out


# --- the network ------------------------------------------------------------------------------

class MLP:
    r"""Multilayer perceptron with hand-written backpropagation.

    .. math::

        f(h_0) = z_L, \qquad z_l = h_{l-1} W_l + b_l, \qquad h_l = \varphi(z_l)\ (l < L).

    Parameters
    ----------
    in_dim, out_dim : int
        Input and output widths (>= 1).
    widths : sequence of int, default (64, 64, 64)
        Hidden widths; ``()`` gives a linear model.
    activation : {"silu", "tanh"}
        :math:`\varphi`.
    dtype : np.float64 or np.float32
        Dtype of parameters, buffers and gradients. ``forward`` casts other
        inputs to it (a copy); pass inputs of this dtype to avoid the copy.
    rng : numpy.random.Generator
        Source of the initial weights.

    Notes
    -----
    Initialisation (LeCun normal): :math:`(W_l)_{ij} \sim N(0, 1/\text{fan\_in})`
    drawn in float64 layer by layer and then cast to ``dtype`` (so float32
    and float64 networks built from the same seed agree up to rounding);
    :math:`b_l = 0`. This keeps pre-activations of order one for inputs of
    order one, the regime where tanh and SiLU are neither saturated nor linear.

    Storage: the parameters are views into one vector ``flat_parameters``
    (order of :meth:`parameters`, each array in C order) and the gradients
    views into ``flat_gradients``. ``Adam([net.flat_parameters])`` stepped
    with ``[net.flat_gradients]`` is the same update as Adam on the lists
    (Adam is elementwise), with far fewer NumPy calls.

    Not thread-safe: forward caches what backward needs, in reused buffers.
    """

    def __init__(self, in_dim, out_dim, *, widths=(64, 64, 64), activation="silu", dtype=np.float64, rng):
        self.in_dim = _positive_int(in_dim, "in_dim", 3)
        self.out_dim = _positive_int(out_dim, "out_dim", 2)
        self.widths = _widths(widths)
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}; received activation={activation!r}. "
                f"Pass activation='silu' or activation='tanh'."
            )
        self.activation = activation
        self.dtype = _float_dtype(dtype)
        check_rng(rng)

        sizes = (self.in_dim, *self.widths, self.out_dim)
        shapes = [s for fan_in, fan_out in zip(sizes[:-1], sizes[1:]) for s in ((fan_in, fan_out), (fan_out,))]
        # All parameters live in one flat vector, and so do their gradients; W_l, b_l, dW_l
        # and db_l are views into them. Adam can then update everything with a few
        # whole-vector operations instead of a dozen small ones per array.
        self.flat_parameters = np.zeros(sum(int(np.prod(s)) for s in shapes), dtype=self.dtype)
        self.flat_gradients = np.zeros_like(self.flat_parameters)
        params = _views(self.flat_parameters, shapes)
        grads = _views(self.flat_gradients, shapes)

        self.layers: list = []          # Linear, activation, Linear, ..., Linear
        self.linears: list[Linear] = []
        for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W, b = params[2 * l], params[2 * l + 1]
            W[...] = rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)    # LeCun normal; b = 0
            linear = Linear(W, b, needs_grad_input=(l > 0), dW=grads[2 * l], db=grads[2 * l + 1])
            self.linears.append(linear)
            self.layers.append(linear)
            if l < len(sizes) - 2:
                self.layers.append(ACTIVATIONS[activation]())
        self._forward_shape = None

    def __repr__(self) -> str:
        return (
            f"MLP(in_dim={self.in_dim}, out_dim={self.out_dim}, widths={self.widths}, "
            f"activation={self.activation!r}, dtype=np.{self.dtype.name})"
        )

    def parameters(self) -> list[np.ndarray]:
        """The live parameter arrays ``[W_1, b_1, ..., W_L, b_L]`` (updated in place by :class:`Adam`)."""
        return [p for linear in self.linears for p in (linear.W, linear.b)]

    @property
    def n_parameters(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    def get_flat_parameters(self) -> np.ndarray:
        """A new 1-D copy of all parameters, in the order of :meth:`parameters`."""
        return self.flat_parameters.copy()

    def set_flat_parameters(self, vector) -> None:
        """Overwrite the parameters in place from a finite 1-D vector (cast to the network's dtype).

        Raises
        ------
        ValueError
            If ``vector`` is not a float array of the layout's shape, has NaN/inf entries, or
            has entries that overflow the network's dtype (float32: about 3.4e38).
        """
        vector = np.asarray(vector)
        if vector.shape != self.flat_parameters.shape or vector.dtype.kind != "f":
            raise ValueError(
                f"vector must be a float array of shape {self.flat_parameters.shape}; received "
                f"shape {vector.shape} and dtype {vector.dtype}. Use get_flat_parameters() for the layout."
            )
        with np.errstate(over="ignore"):
            cast = vector.astype(self.dtype)
        if not np.isfinite(cast).all():
            index = int(np.argmax(~np.isfinite(cast)))
            raise ValueError(
                f"vector must contain only finite values (in {self.dtype.name}); received {float(vector[index])!r} at index "
                f"{index}. Pass finite parameters, e.g. from get_flat_parameters()."
            )
        self.flat_parameters[...] = cast

    def forward(self, inputs) -> np.ndarray:
        r"""Outputs :math:`f(h_0)` of shape (n, out_dim); caches what :meth:`backward` needs.

        Parameters
        ----------
        inputs : ndarray, shape (n, in_dim)
            Floating point; not checked for NaN (this is the hot loop;
            :class:`MLPField` validates its data once).

        Returns
        -------
        ndarray, shape (n, out_dim), the network's dtype
            A new array. This low-level method keeps the network's dtype (float32 when
            asked, for fast training); the field :class:`MLPField` returns float64 like the
            rest of si_ref.
        """
        h = np.asarray(inputs)
        if h.dtype.kind != "f":
            raise TypeError(
                f"inputs must be a floating-point array of shape (n, {self.in_dim}); received dtype "
                f"{h.dtype}. Convert with np.asarray(inputs, dtype=float)."
            )
        if h.ndim != 2 or h.shape[1] != self.in_dim or h.shape[0] == 0:
            raise ValueError(
                f"inputs must have shape (n, in_dim) = (n, {self.in_dim}) with n >= 1; received shape "
                f"{h.shape}."
            )
        if h.dtype != self.dtype:
            h = h.astype(self.dtype)
        return self._forward(h).copy()

    def _forward(self, h: np.ndarray) -> np.ndarray:
        """The forward pass on checked inputs of the network's dtype; returns the last layer's buffer."""
        for layer in self.layers:
            h = layer.forward(h)
        self._forward_shape = h.shape
        return h

    def backward(self, grad_outputs) -> list[np.ndarray]:
        r"""Gradients of a loss with respect to every parameter, by the chain rule.

        Parameters
        ----------
        grad_outputs : ndarray, shape (n, out_dim)
            :math:`\partial\mathcal L/\partial\,\text{outputs}` at the inputs of the
            last :meth:`forward`.

        Returns
        -------
        list of ndarray
            ``[dW_1, db_1, ..., dW_L, db_L]``, matching :meth:`parameters` (new arrays; the live
            ones are views into ``flat_gradients``).

        Raises
        ------
        RuntimeError
            If :meth:`forward` was not called first.
        ValueError
            If ``grad_outputs`` does not have the shape of the last outputs.
        """
        if self._forward_shape is None:
            raise RuntimeError("backward needs the activations of a forward pass; call forward(inputs) first.")
        g = np.asarray(grad_outputs)
        if g.shape != self._forward_shape:
            raise ValueError(
                f"grad_outputs must have the shape of the last outputs, {self._forward_shape}; "
                f"received shape {g.shape}."
            )
        if g.dtype != self.dtype:
            g = g.astype(self.dtype)
        self._backward(g)
        return self.gradients()

    def _backward(self, g: np.ndarray) -> None:
        """The backward pass from checked output gradients; fills ``flat_gradients`` in place."""
        for layer in reversed(self.layers):
            g = layer.backward(g)

    def gradients(self) -> list[np.ndarray]:
        """The gradients of the last :meth:`backward`, ``[dW_1, db_1, ..., dW_L, db_L]`` (new arrays)."""
        return [g.copy() for linear in self.linears for g in (linear.dW, linear.db)]


# --- the field --------------------------------------------------------------------------------

class MLPField:
    r"""A learned field :math:`f(x, t) \in \mathbb R^d`: an :class:`MLP` of (x, time features).

    The network sees :math:`\big((x - \mu_x)/\sigma_x,\ \phi(t)\big)` of width
    d + 1 + 2K, with :math:`\phi` from :func:`time_features`, and outputs d
    numbers. Train it by regression with :meth:`fit`; evaluate it as a field
    ``f(x, t)`` (float64 output, like every si_ref field).

    Parameters
    ----------
    dim : int
        d, the dimension of x and of the output.
    widths : sequence of int, default (64, 64, 64)
    activation : {"silu", "tanh"}, default "silu"
    n_frequencies : int, default 4
        K in :func:`time_features`.
    dtype : np.float64 or np.float32, default np.float64
        Training and evaluation dtype of the network; outputs are float64 either way.
    standardize : bool, default True
        If True, the first call to :meth:`fit` stores the per-coordinate mean
        :math:`\mu_x` and standard deviation :math:`\sigma_x` of its x
        (a coordinate with zero spread gets :math:`\sigma_x = 1`) in
        ``x_mean`` and ``x_scale``; they are then frozen, so later calls to
        ``fit`` keep training the same function. If False (or before any fit),
        :math:`\mu_x = 0, \sigma_x = 1`. Outputs are not rescaled.
    rng : numpy.random.Generator
        Source of the initial weights.

    Attributes
    ----------
    network : MLP
    x_mean, x_scale : ndarray, shape (d,), float64
    """

    def __init__(self, dim, *, widths=(64, 64, 64), activation="silu", n_frequencies=4,
                 dtype=np.float64, standardize=True, rng):
        self.dim = _positive_int(dim, "dim", 2)
        self.n_frequencies = _n_frequencies(n_frequencies)
        self.standardize = as_bool(standardize, "standardize")
        self.network = MLP(self.dim + 1 + 2 * self.n_frequencies, self.dim, widths=widths,
                           activation=activation, dtype=dtype, rng=rng)
        self.dtype = self.network.dtype
        self.x_mean = np.zeros(self.dim)
        self.x_scale = np.ones(self.dim)
        self._scaling_frozen = False
        self._buffers: dict = {}

    def __repr__(self) -> str:
        return (
            f"MLPField(dim={self.dim}, widths={self.network.widths}, activation={self.network.activation!r}, "
            f"n_frequencies={self.n_frequencies}, dtype=np.{self.dtype.name})"
        )

    # -- inputs ------------------------------------------------------------------------------

    def _points_and_times(self, x, t, name="x"):
        """Validated float64 x (n, d) and times (n,) (a scalar t is repeated)."""
        x = as_points(x, name, d=self.dim)
        if x.shape[0] == 0:
            raise ValueError(f"{name} must contain at least one point; received shape {x.shape}.")
        times = as_times(t)
        time_column(times, x.shape[0])              # raises unless scalar or (n,)
        return x, np.broadcast_to(times, (x.shape[0],))

    def _network_inputs(self, x: np.ndarray, times: np.ndarray) -> np.ndarray:
        """concat((x − μ_x)/σ_x, φ(t)) of shape (n, d + 1 + 2K), in the network's dtype."""
        out = np.empty((x.shape[0], self.network.in_dim), dtype=self.dtype)
        out[:, :self.dim] = (x - self.x_mean) / self.x_scale
        out[:, self.dim:] = _time_features(times, self.n_frequencies)
        return out

    # -- training ----------------------------------------------------------------------------

    def _train_step(self, inputs, targets, weights, optimizer: Adam) -> float:
        r"""One Adam step on :math:`\frac1m \sum_i w_i \tfrac12 |f(\text{inputs}_i) - y_i|^2`; returns that loss."""
        m = inputs.shape[0]
        outputs = self.network._forward(inputs)                         # inputs: checked, the network's dtype
        residual = _rows(self._buffers, "residual", m, self.dim, self.dtype)
        np.subtract(outputs, targets, out=residual)                     # r = f − y
        if weights is None:
            loss = 0.5 * float(np.vdot(residual, residual)) / m
        else:
            loss = 0.5 * float(weights @ np.einsum("ij,ij->i", residual, residual)) / m
            residual *= weights[:, None]
        residual *= 1.0 / m                                             # ∂loss/∂f = w r / m
        self.network._backward(residual)                                # fills flat_gradients
        optimizer.step([self.network.flat_gradients])
        return loss

    @with_blas_threads
    def fit(self, x, t, y, *, epochs=100, batch_size=128, lr=1e-3, lr_final=None, rng, verbose=False,
            sample_weight=None, weights=None):
        r"""Regress the field on targets: minimise the mean of :math:`\tfrac12 |f(x_i, t_i) - y_i|^2`.

        Each epoch shuffles the data with ``rng`` and takes one :class:`Adam`
        step per minibatch of ``min(batch_size, n)`` points (the last one may
        be smaller), so every point is used once per epoch. A new Adam state
        is created at each call. With ``sample_weight`` w, the objective is
        :math:`\sum_i w_i \tfrac12|f_i - y_i|^2 / \sum_i w_i`: the weights are
        rescaled to mean 1 and minibatch losses are :math:`\frac1m\sum w_i\ell_i`
        (an unbiased estimate).

        Parameters
        ----------
        x : ndarray, shape (n, d)
        t : float or ndarray, shape (n,)
            Times in [0, 1]; a scalar applies to every row.
        y : ndarray, shape (n, d)
            Regression targets: exact fields, or noisy targets whose conditional
            mean is the field, e.g. :math:`\partial_t I + \dot\gamma z` for the drift
            b (the objective is then :math:`L_b` plus a constant).
        epochs : int, default 100
            >= 1.
        batch_size : int, default 128
            >= 1.
        lr : float, default 1e-3
            Adam step size, > 0.
        lr_final : float, optional
            If given (> 0), the step size of epoch k (from 0) is
            :math:`lr\,(lr_{final}/lr)^{k/(E-1)}`: a geometric decay from ``lr`` to ``lr_final``
            over the E epochs (a constant ``lr`` otherwise). Regression to a few per cent
            needs the decay: the minibatch noise of Adam's steps scales with the step size.
        rng : numpy.random.Generator
            Source of the minibatch order.
        verbose : bool, default False
            Print one line per epoch, ``epoch k/E loss L``. Independently, progress (unit
            "epoch", with the loss) is shown on a terminal by :func:`si_ref.progress.task`.
        sample_weight : ndarray, shape (n,), optional
            Non-negative finite sample weights, not all zero (the keyword of every si_ref model's ``fit``).
        weights : ndarray, shape (n,), optional
            Deprecated name of ``sample_weight`` (warns once, still works).

        Returns
        -------
        ndarray, shape (epochs,), float64
            The history: entry k is the mean per-point loss of epoch k,
            accumulated during the epoch (the parameters move within it).

        Raises
        ------
        TypeError, ValueError
            Naming the argument: shapes, empty data, NaN/inf, t outside [0, 1],
            non-positive ``lr``, ``epochs`` or ``batch_size``, bad weights, a
            non-Generator ``rng``; a ValueError naming ``lr`` when the loss of an
            epoch is NaN or inf (training diverged: the parameters are then unusable).

        Notes
        -----
        Runs with one BLAS thread unless the user chose (:func:`si_ref.threads.blas_threads`).
        """
        x, times = self._points_and_times(x, t)
        n = x.shape[0]
        y = as_points(y, "y")
        if y.shape != x.shape:
            raise ValueError(
                f"y must have the shape of x, (n, d) = {x.shape}; received shape {y.shape}. "
                f"Pass one target of dimension {self.dim} per point."
            )
        epochs = _positive_int(epochs, "epochs", 100)
        batch_size = _positive_int(batch_size, "batch_size", 128)
        lr = as_real_scalar(lr, "lr")
        if lr <= 0:
            raise ValueError(f"lr must be > 0; received lr={lr!r}. Pass e.g. lr=1e-3.")
        if lr_final is not None:
            lr_final = as_real_scalar(lr_final, "lr_final")
            if lr_final <= 0:
                raise ValueError(f"lr_final must be > 0 (or None); received lr_final={lr_final!r}. Pass e.g. lr_final=3e-5.")
        check_rng(rng)
        verbose = as_bool(verbose, "verbose")
        weights = renamed_keyword("sample_weight", sample_weight, "weights", weights, "MLPField.fit")
        if weights is not None:
            weights = sample_weights(weights, n, "sample_weight")
            weights = (weights / weights.mean()).astype(self.dtype)

        if self.standardize and not self._scaling_frozen:
            self.x_mean = x.mean(axis=0)
            spread = x.std(axis=0)
            self.x_scale = np.where(spread > 0, spread, 1.0)
        self._scaling_frozen = True

        inputs = self._network_inputs(x, times)       # the whole data set, once, in the network dtype
        targets = y.astype(self.dtype)
        # one flat vector: the same update as Adam on the list of arrays, in fewer calls
        optimizer = Adam([self.network.flat_parameters], lr=lr)
        batch = min(batch_size, n)
        history = np.empty(epochs)
        with task("MLP training", total=epochs, unit="epoch") as progress:
            for epoch in range(epochs):
                if lr_final is not None and epochs > 1:
                    optimizer.lr = lr * (lr_final / lr) ** (epoch / (epochs - 1))
                order = rng.permutation(n)
                total = 0.0
                with np.errstate(over="ignore", invalid="ignore"):    # divergence is reported below
                    for start in range(0, n, batch):
                        idx = order[start:start + batch]
                        m = idx.size
                        # gather the minibatch into reused buffers (np.take with out=): no new arrays per step
                        buffers = self._buffers
                        batch_inputs = np.take(inputs, idx, axis=0,
                                               out=_rows(buffers, "inputs", m, inputs.shape[1], self.dtype))
                        batch_targets = np.take(targets, idx, axis=0, out=_rows(buffers, "targets", m, self.dim, self.dtype))
                        w = None
                        if weights is not None:
                            w = np.take(weights, idx, out=_rows(buffers, "weights", m, 1, self.dtype)[:, 0])
                        total += self._train_step(batch_inputs, batch_targets, w, optimizer) * m
                history[epoch] = total / n
                if not np.isfinite(history[epoch]):
                    raise ValueError(
                        f"training diverged: the loss of epoch {epoch + 1} is {history[epoch]!r} with lr={lr!r} "
                        f"(the parameters are no longer finite). Pass a smaller lr (e.g. lr={lr / 10:g}), rescale "
                        f"the targets, or use dtype=np.float64."
                    )
                progress.advance(detail=f"loss {history[epoch]:.4g}")
                if verbose:
                    print(f"epoch {epoch + 1}/{epochs} loss {history[epoch]:.6g}")
        return history

    # -- evaluation --------------------------------------------------------------------------

    def predict(self, x, t) -> np.ndarray:
        """The field at (x, t): a new float64 array of shape (n, d).

        Parameters
        ----------
        x : ndarray, shape (n, d)
        t : float or ndarray, shape (n,)
            Times in [0, 1]; row i uses t[i].
        """
        x, times = self._points_and_times(x, t)
        out = np.empty(x.shape)
        for start in range(0, x.shape[0], PREDICT_CHUNK):
            rows = slice(start, start + PREDICT_CHUNK)
            out[rows] = self.network._forward(self._network_inputs(x[rows], times[rows]))
        return out

    def __call__(self, x, t, c=None) -> np.ndarray:
        """Same as :meth:`predict`; ``c`` (a conditioning) is accepted for the field
        protocol ``f(x, t, c)`` and ignored: this field is unconditional."""
        return self.predict(x, t)
