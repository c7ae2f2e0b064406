"""The ``muon`` optimizer: orthogonalised steps for the convolution filters, SGD for the rest.

Muon (Keller Jordan, 2024; the optimizer of ``airbench94_muon``) takes each convolution's
Nesterov momentum, reshapes it to a (inputs x filters) matrix and replaces it by a nearby
matrix whose directions all have about the same size (five-term Newton-Schulz iterations
towards its orthogonal factor). Every direction of the filters then learns at the same pace,
instead of the few that dominate the raw gradient. The filter tensor is kept at norm
sqrt(filters) (batch norm after each convolution makes its scale irrelevant), so the filters'
rate is the size of a step relative to the filters themselves.

Everything else (batch norm's shifts, dense and output layers, biases) takes Keras' SGD steps
with the spec's momentum, Nesterov and weight decay. The filters' rate follows the spec's
learning-rate schedule: ``muon_rate`` at the schedule's peak.

Example:
    >>> import keras
    >>> opt = MuonFilters(learning_rate=0.2, filter_rate_scale=0.25, momentum=0.85)
    >>> opt.get_config()["filter_rate_scale"]
    0.25
"""

from __future__ import annotations

import keras
from keras import ops

#: Momentum of the filters' steps (airbench94_muon's; the spec's momentum is SGD's).
MUON_MOMENTUM = 0.6
#: Newton-Schulz iterations per step (airbench94_muon's; more cost time, not accuracy).
MUON_STEPS = 3
#: Coefficients of the quintic iteration (a, b, c), chosen for a steep slope at zero.
NEWTON_SCHULZ = (3.4445, -4.7750, 2.0315)


def orthogonalise(matrix, steps: int = MUON_STEPS):
    """A matrix with ``matrix``'s singular vectors and singular values near 1 (about 0.5-1.5).

    Normalised to Frobenius norm 1 (so every singular value is at most 1), then ``steps``
    quintic Newton-Schulz iterations, on the wide orientation (fewer rows than columns).
    """
    a, b, c = NEWTON_SCHULZ
    x = matrix / (ops.sqrt(ops.sum(ops.square(matrix))) + 1e-7)
    tall = matrix.shape[0] > matrix.shape[1]
    if tall:
        x = ops.transpose(x)
    for _ in range(steps):
        gram = ops.matmul(x, ops.transpose(x))
        x = a * x + ops.matmul(b * gram + c * ops.matmul(gram, gram), x)
    return ops.transpose(x) if tall else x


def is_filter(variable) -> bool:
    """Whether Muon moves ``variable``: a 2D convolution's kernel (height, width, in, out)."""
    return len(variable.shape) == 4


@keras.saving.register_keras_serializable(package="cnn_core")
class MuonFilters(keras.optimizers.SGD):
    """Keras SGD, except that convolution kernels take Muon steps.

    ``filter_rate_scale`` turns the scheduled learning rate into the filters' rate (the spec's
    ``muon_rate / learning_rate``). ``muon_momentum`` and ``muon_steps`` are Muon's momentum
    (Nesterov) and Newton-Schulz iterations.
    """

    def __init__(self, *args, filter_rate_scale: float = 1.0,
                 muon_momentum: float = MUON_MOMENTUM, muon_steps: int = MUON_STEPS, **kwargs):
        super().__init__(*args, **kwargs)
        self.filter_rate_scale = float(filter_rate_scale)
        self.muon_momentum = float(muon_momentum)
        self.muon_steps = int(muon_steps)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        if not self.momentums:   # SGD keeps no momentum at momentum 0; Muon always does
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        if not is_filter(variable):
            return super().update_step(gradient, variable, learning_rate)
        rate = ops.cast(learning_rate, variable.dtype) * self.filter_rate_scale
        gradient = ops.cast(gradient, variable.dtype)
        buffer = self.momentums[self._get_variable_index(variable)]
        self.assign(buffer, buffer * self.muon_momentum + gradient)
        step = gradient + self.muon_momentum * buffer   # Nesterov
        shape = variable.shape
        step = ops.reshape(orthogonalise(ops.reshape(step, (-1, shape[-1])), self.muon_steps),
                           shape)
        weights = ops.convert_to_tensor(variable)
        weights = weights * (float(shape[-1]) ** 0.5
                             / (ops.sqrt(ops.sum(ops.square(weights))) + 1e-12))
        self.assign(variable, weights - rate * step)

    def get_config(self):
        return {**super().get_config(), "filter_rate_scale": self.filter_rate_scale,
                "muon_momentum": self.muon_momentum, "muon_steps": self.muon_steps}


__all__ = ["MUON_MOMENTUM", "MUON_STEPS", "MuonFilters", "is_filter", "orthogonalise"]
