"""The architecture of an image flow, stated once.

The distribution builder, training, the benchmark, export and the programs'
flags all read an `Architecture`; a run saves it beside its checkpoints.
"""

import dataclasses

__all__ = ['Architecture', 'default_num_scales', 'check_count']


def check_count(name, value, lowest=1):
  """Raises ValueError naming `name` unless `value` is an int >= `lowest`.

  A bool is not a count.

  #### Example

  ```python
  from tfp_realnvp import config

  config.check_count('num_scales', 3)
  try:
    config.check_count('num_scales', 0)
  except ValueError as e:
    assert 'num_scales' in str(e)
  ```
  """
  if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
    raise ValueError(f'{name} must be a positive integer; got {value!r}.')


def default_num_scales(height, width, smallest=4):
  """Scales until the last one is `smallest` pixels wide (or cannot halve).

  #### Example

  ```python
  from tfp_realnvp import config

  assert config.default_num_scales(32, 32) == 4  # 32, 16, 8, 4
  assert config.default_num_scales(28, 28) == 3  # 28, 14, 7: 7 is odd
  ```
  """
  num_scales = 1
  while height % 2 == 0 and width % 2 == 0 and min(height, width) > smallest:
    height, width = height // 2, width // 2
    num_scales += 1
  return num_scales


@dataclasses.dataclass(frozen=True)
class Architecture:
  """Real NVP on `[H, W, C]` images (Dinh et al. 2017, section 3.6 and 4.1).

  Attributes:
    event_shape: `(height, width, channels)` of the images.
    num_scales: scales of the multi-scale architecture; None: as many as
      halve the image down to 4x4 (`default_num_scales`).
    num_res_blocks: residual blocks in each coupling's s,t network.
    num_filters: feature maps at the finest scale; they double at each
      coarser one.
    batch_norm: batch normalization in the s,t networks and after each
      coupling, as in the paper; False: none anywhere.
    num_bits: bits per pixel; pixels lie in `[0, 2**num_bits)`.
    num_classes: set for a class-conditional flow: every call then takes
      `conditional_input`, `[batch, num_classes]` (one-hot labels), through
      `bijector_kwargs`.
    network_dtype: a `tf_keras` dtype policy for the s,t networks, e.g.
      `'mixed_bfloat16'`; None: the flow's dtype. The couplings' affine maps,
      log-dets, prior and loss stay in the flow's dtype.

  #### Example

  ```python
  import tfp_realnvp

  # The paper's CIFAR-10 model: 8 residual blocks, 64 feature maps, 2 scales.
  cifar10 = tfp_realnvp.Architecture(
      (32, 32, 3), num_scales=2, num_res_blocks=8, num_filters=64)
  assert tfp_realnvp.Architecture((32, 32, 3)).num_scales == 4  # the default
  dist = tfp_realnvp.real_nvp_distribution(
      tfp_realnvp.Architecture((8, 8, 1), num_scales=1, num_res_blocks=0,
                               num_filters=4))
  ```
  """
  event_shape: tuple[int, int, int]
  num_scales: int | None = None
  num_res_blocks: int = 4
  num_filters: int = 32
  batch_norm: bool = True
  num_bits: int = 8
  num_classes: int | None = None
  network_dtype: str | None = None

  def __post_init__(self):
    shape = tuple(self.event_shape)
    if len(shape) != 3 or not all(
        isinstance(d, int) or hasattr(d, '__index__') for d in shape) or (
            min(shape) < 1):
      raise ValueError(f'event_shape must be [height, width, channels] of '
                       f'positive integers; got {self.event_shape}.')
    shape = tuple(int(d) for d in shape)
    object.__setattr__(self, 'event_shape', shape)
    if self.num_scales is None:
      object.__setattr__(self, 'num_scales', default_num_scales(*shape[:2]))
    for field in ('num_scales', 'num_res_blocks', 'num_filters', 'num_bits'):
      check_count(field, getattr(self, field),
                  lowest=0 if field == 'num_res_blocks' else 1)
    halvings = 2 ** (self.num_scales - 1)
    if shape[0] % halvings or shape[1] % halvings:
      raise ValueError(
          f'num_scales={self.num_scales} squeezes the image '
          f'{self.num_scales - 1} times, so height and width must be '
          f'divisible by {halvings}; got an event shape of {list(shape)}.')
    if self.num_classes is not None and (
        not isinstance(self.num_classes, int) or self.num_classes < 1):
      raise ValueError(f'num_classes must be None or a positive integer; '
                       f'got {self.num_classes!r}.')

  def replace(self, **changes):
    return dataclasses.replace(self, **changes)

  def to_dict(self):
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, values):
    return cls(**{**values, 'event_shape': tuple(values['event_shape'])})
