"""The PyTorch reference of `bin/benchmark --reference=torch`.

Real NVP with the architecture of chrischute/real-nvp
(https://github.com/chrischute/real-nvp, the widely used PyTorch
implementation of Dinh et al.), written here from that architecture, not from
its code: nothing of it is copied. It exists to time the same model in
PyTorch beside ours, at the same configurations; it is not part of the
library. Shapes are PyTorch's `[batch, channels, height, width]`.

What it builds, for images of `channels` channels, `num_filters` feature maps
and `num_blocks` residual blocks, scale by scale from the finest:

- Three checkerboard affine couplings, alternating which pixels change (the
  top-left pixel first). The last scale has four and stops there.
- Otherwise a 2x2 squeeze (channel `4 c + 2 i + j` holds pixel `(i, j)` of
  each 2x2 block of channel `c`), three channel-wise couplings, alternating
  which half of the channels changes (the first half first), conditioned on
  the other half, with twice the feature maps, and the inverse squeeze.
- Factor-out: a second 2x2 squeeze ordering the block's pixels top-left,
  bottom-right, top-right, bottom-left, channels within each; the first half
  of its channels (two diagonal pixels of every block) goes on to the next
  scale, at twice the channels and twice the feature maps; the rest is
  latent. The latent is put back at its pixels, so `z` has the image's shape.

Each coupling computes `y = (x + t) * exp(s)` on the pixels it changes,
`s = w * tanh(s')` with a learned per-channel `w` (weight-normalised, starting
at 1), and `(s', t)` from a ResNet of the conditioning pixels (the others
zeroed for a checkerboard): batch norm of its input (doubled for
checkerboards), `[h, -h]`, ReLU, a 3x3 convolution to `num_filters`, then
`num_blocks` residual blocks (batch norm, ReLU, 3x3 convolution, batch norm,
ReLU, 3x3 convolution, plus the block's input), a skip path summing 1x1
convolutions of the first convolution's and every block's output, and batch
norm, ReLU and a 1x1 convolution of that sum to `(s', t)`. Every convolution
is weight-normalised (PyTorch's fused weight norm); batch norms are PyTorch's
(learned scale and shift, momentum 0.1, epsilon 1e-5). Before the couplings,
pixels `x` in [0, 256) become `logit(0.05 + 0.9 x / 256)`. Training: mean
negative log-likelihood in nats of the [0, 256)-valued pixels, Adam
(learning rate 1e-3) with L2 5e-5 on the weight-norm scales (Adam's
`weight_decay`), gradient norm clipped at 100 per parameter group.
`--precision=bf16` runs the forward passes under `torch.autocast('cpu',
dtype=torch.bfloat16)`, as chrischute's code would be run in bfloat16 (the
parameters and the optimizer stay float32).

The flow's tensors are channels-last, as chrischute's squeezes leave them.
Unlike chrischute's `forward`, `log_prob` takes pixels already dequantized
(as ours does) and `sample` returns pixels in [0, 256).

  python bin/torch_reference.py --image_shape=32,32,3 --num_scales=2 \
      --num_blocks=8 --num_filters=64 --batch_size=64 --seconds=10
  python bin/torch_reference.py --count   # parameters and GFLOP/image only
  python bin/torch_reference.py --peak=1024,2048 --precision=bf16  # GFLOP/s

prints one JSON line, the keys of `benchmark_lib.measure`'s rows.
"""

import argparse
import contextlib
import json
import math
import time

import torch
from torch import nn
from torch.nn import functional as F

from benchmark_timing import best_gflops, images_per_second, peak_rss_gb
from benchmark_timing import PEAK_CONVOLUTION
from benchmark_timing import PEAK_CONVOLUTION_FLOPS

__all__ = ['RealNVP', 'num_parameters', 'forward_flops', 'training_step',
           'log_prob_pass', 'sample_pass', 'measure', 'peak_gflops']

THREADS = 2  # This machine kind's cores; TensorFlow uses them all too.
_BOUNDS = 0.05, 0.9  # logit(0.05 + 0.9 x / 256)


# The flow's tensors are channels-last (`[b, c, h, w]` with NHWC strides,
# oneDNN's layout: no reorder around each convolution), as the squeezes of
# chrischute's code leave them: 15% faster log_prob than NCHW, measured.
# The squeezes permute in that layout and return channels-last tensors.
def _nhwc(x):
  return x.permute(0, 2, 3, 1)


def _nchw(x):
  return x.permute(0, 3, 1, 2)


def squeeze(x):
  """`[b, c, h, w]` to `[b, 4c, h/2, w/2]`; channel `4c + 2i + j` is (i, j)."""
  b, c, h, w = x.shape
  x = _nhwc(x).reshape(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 5, 2, 4)
  return _nchw(x.reshape(b, h // 2, w // 2, 4 * c))


def unsqueeze(x):
  b, c, h, w = x.shape
  x = _nhwc(x).reshape(b, h, w, c // 4, 2, 2).permute(0, 1, 4, 2, 5, 3)
  return _nchw(x.reshape(b, 2 * h, 2 * w, c // 4))


# Factor-out order of a 2x2 block's pixels (2i + j): top-left, bottom-right,
# top-right, bottom-left.
_DIAGONAL_FIRST = [0, 3, 1, 2]
_DIAGONAL_FIRST_INVERSE = [0, 2, 3, 1]


def squeeze_diagonal_first(x):
  """`[b, 4c, h/2, w/2]`: four blocks of c channels, one per pixel, in
  `_DIAGONAL_FIRST` order."""
  b, c, h, w = x.shape
  x = _nhwc(x).reshape(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 2, 4, 5)
  x = x.reshape(b, h // 2, w // 2, 4, c)[:, :, :, _DIAGONAL_FIRST]
  return _nchw(x.reshape(b, h // 2, w // 2, 4 * c))


def unsqueeze_diagonal_first(x):
  b, c, h, w = x.shape
  x = _nhwc(x).reshape(b, h, w, 4, c // 4)[:, :, :, _DIAGONAL_FIRST_INVERSE]
  x = x.reshape(b, h, w, 2, 2, c // 4).permute(0, 1, 3, 2, 4, 5)
  return _nchw(x.reshape(b, 2 * h, 2 * w, c // 4))


def checkerboard(height, width, parity, like):
  """1 on the pixels a checkerboard coupling conditions on: `(i + j) % 2`,
  flipped when `parity`, so the top-left pixel changes first."""
  i = torch.arange(height, device=like.device)[:, None]
  j = torch.arange(width, device=like.device)
  return ((i + j + parity) % 2).to(like.dtype)


class WeightNormConv2d(nn.Module):
  """A 'same' convolution with weight `g v / |v|` (a norm per output channel).

  Initialised as PyTorch's `nn.Conv2d` and `g = |v|`, so it starts as that
  convolution. `weight_g` are the 'scale parameters' that training's L2 acts on.
  """

  def __init__(self, in_channels, out_channels, kernel_size, bias=True):
    super().__init__()
    conv = nn.Conv2d(in_channels, out_channels, kernel_size,
                     padding=kernel_size // 2, bias=bias)
    self.weight_v = nn.Parameter(conv.weight.detach().clone())
    self.weight_g = nn.Parameter(
        self.weight_v.detach().flatten(1).norm(dim=1).reshape(-1, 1, 1, 1))
    self.bias = (nn.Parameter(conv.bias.detach().clone()) if bias else None)
    self.padding = kernel_size // 2

  def forward(self, x):
    weight = torch._weight_norm(self.weight_v, self.weight_g, 0)
    return F.conv2d(x, weight, self.bias, padding=self.padding)


class ResidualBlock(nn.Module):

  def __init__(self, filters):
    super().__init__()
    self.norm_a = nn.BatchNorm2d(filters)
    self.conv_a = WeightNormConv2d(filters, filters, 3, bias=False)
    self.norm_b = nn.BatchNorm2d(filters)
    self.conv_b = WeightNormConv2d(filters, filters, 3)

  def forward(self, x):
    h = self.conv_a(F.relu(self.norm_a(x)))
    return x + self.conv_b(F.relu(self.norm_b(h)))


class ResNet(nn.Module):
  """The s,t network: `2 * channels` outputs (s', then t) from `channels`."""

  def __init__(self, channels, filters, num_blocks, double_input):
    super().__init__()
    self.double_input = double_input
    self.norm_in = nn.BatchNorm2d(channels)
    self.conv_in = WeightNormConv2d(2 * channels, filters, 3)
    self.skip_in = WeightNormConv2d(filters, filters, 1)
    self.blocks = nn.ModuleList(ResidualBlock(filters)
                                for _ in range(num_blocks))
    self.skips = nn.ModuleList(WeightNormConv2d(filters, filters, 1)
                               for _ in range(num_blocks))
    self.norm_out = nn.BatchNorm2d(filters)
    self.conv_out = WeightNormConv2d(filters, 2 * channels, 1)

  def forward(self, x):
    x = self.norm_in(x)
    if self.double_input:
      x *= 2
    h = self.conv_in(F.relu(torch.cat([x, -x], dim=1)))
    skip = self.skip_in(h)
    for block, skip_conv in zip(self.blocks, self.skips):
      h = block(h)
      skip += skip_conv(h)
    return self.conv_out(F.relu(self.norm_out(skip)))


class Coupling(nn.Module):
  """Affine coupling; `forward` maps data to latent and returns the log-det."""

  def __init__(self, channels, filters, num_blocks, is_checkerboard, parity):
    super().__init__()
    self.is_checkerboard, self.parity = is_checkerboard, parity
    changed = channels if is_checkerboard else channels // 2
    self.net = ResNet(changed, filters, num_blocks,
                      double_input=is_checkerboard)
    # The per-channel factor w of s = w tanh(s'), weight-normalised: g v/|v|.
    self.rescale_v = nn.Parameter(torch.ones(changed, 1, 1))
    self.rescale_g = nn.Parameter(torch.ones(changed, 1, 1))

  def _log_scale_and_shift(self, condition):
    raw, shift = self.net(condition).chunk(2, dim=1)
    factor = self.rescale_g * self.rescale_v / self.rescale_v.abs()
    return factor * torch.tanh(raw), shift

  def _split(self, x):
    """`(changed, condition, join)` of `x`."""
    if self.is_checkerboard:
      mask = checkerboard(x.shape[2], x.shape[3], self.parity, x)
      return x, x * mask, lambda y: y
    first, second = x.chunk(2, dim=1)
    if self.parity:
      return second, first, lambda y: torch.cat([first, y], dim=1)
    return first, second, lambda y: torch.cat([y, second], dim=1)

  def _transform(self, x, inverse):
    changed, condition, join = self._split(x)
    log_scale, shift = self._log_scale_and_shift(condition)
    if self.is_checkerboard:  # Zero on the conditioning pixels.
      keep = 1 - checkerboard(x.shape[2], x.shape[3], self.parity, x)
      log_scale, shift = log_scale * keep, shift * keep
    if inverse:
      return join(changed * torch.exp(-log_scale) - shift), None
    return (join((changed + shift) * torch.exp(log_scale)),
            log_scale.flatten(1).sum(1))

  def forward(self, x):
    return self._transform(x, inverse=False)

  def inverse(self, y):
    return self._transform(y, inverse=True)[0]


class Scale(nn.Module):
  """One scale and, recursively, the coarser ones."""

  def __init__(self, channels, filters, num_blocks, num_scales):
    super().__init__()
    last = num_scales == 1
    self.checkerboard = nn.ModuleList(
        Coupling(channels, filters, num_blocks, True, parity=i % 2)
        for i in range(4 if last else 3))
    if not last:
      self.channel = nn.ModuleList(
          Coupling(4 * channels, 2 * filters, num_blocks, False, parity=i % 2)
          for i in range(3))
      self.coarser = Scale(2 * channels, 2 * filters, num_blocks,
                           num_scales - 1)
    self.last = last

  def forward(self, x):
    log_det = 0
    for coupling in self.checkerboard:
      x, ld = coupling(x)
      log_det = log_det + ld
    if self.last:
      return x, log_det
    x = squeeze(x)
    for coupling in self.channel:
      x, ld = coupling(x)
      log_det = log_det + ld
    x = squeeze_diagonal_first(unsqueeze(x))
    on, latent = x.chunk(2, dim=1)
    on, ld = self.coarser(on)
    return unsqueeze_diagonal_first(torch.cat([on, latent], dim=1)), (
        log_det + ld)

  def inverse(self, z):
    if not self.last:
      on, latent = squeeze_diagonal_first(z).chunk(2, dim=1)
      z = squeeze(unsqueeze_diagonal_first(
          torch.cat([self.coarser.inverse(on), latent], dim=1)))
      for coupling in reversed(self.channel):
        z = coupling.inverse(z)
      z = unsqueeze(z)
    for coupling in reversed(self.checkerboard):
      z = coupling.inverse(z)
    return z


class RealNVP(nn.Module):
  """The flow and its standard normal latent, on pixels in [0, 256)."""

  def __init__(self, image_shape, num_scales, num_blocks, num_filters):
    super().__init__()
    height, width, channels = image_shape
    if height % 2**(num_scales - 1) or width % 2**(num_scales - 1):
      raise ValueError(f'{num_scales} scales need height and width divisible '
                       f'by {2**(num_scales - 1)}; got {image_shape}.')
    self.image_shape = tuple(image_shape)
    self.flow = Scale(channels, num_filters, num_blocks, num_scales)

  def forward(self, x):
    """`(z, log|det dz/dx|)` of pixels `x` in [0, 256), `[b, c, h, w]`."""
    low, width = _BOUNDS
    x = x.contiguous(memory_format=torch.channels_last)  # See _nhwc.
    p = low + width * x / 256
    y = torch.log(p) - torch.log1p(-p)
    logit_log_det = (math.log(width / 256) - torch.log(p) -
                     torch.log1p(-p)).flatten(1).sum(1)
    z, log_det = self.flow(y)
    return z, log_det + logit_log_det

  def inverse(self, z):
    low, width = _BOUNDS
    return (torch.sigmoid(self.flow.inverse(z)) - low) * (256 / width)

  def log_prob(self, x):
    z, log_det = self(x)
    prior = -0.5 * (z**2 + math.log(2 * math.pi))
    return prior.flatten(1).sum(1) + log_det

  def sample(self, n):
    height, width, channels = self.image_shape
    return self.inverse(torch.randn(n, channels, height, width))


def num_parameters(model):
  return sum(p.numel() for p in model.parameters())


def forward_flops(model):
  """FLOPs per image of one pass through every coupling network, counted as
  `benchmark_lib.forward_flops` counts ours: `2 * H * W * kernel size` per
  convolution (a multiply-add is 2), biases and element-wise ops left out.
  """
  def convolutions(coupling, height, width):
    return sum(2 * height * width * m.weight_v.numel()
               for m in coupling.modules() if isinstance(m, WeightNormConv2d))

  height, width, _ = model.image_shape
  total, scale = 0, model.flow
  while True:
    total += sum(convolutions(c, height, width) for c in scale.checkerboard)
    if scale.last:
      return total
    total += sum(convolutions(c, height // 2, width // 2)
                 for c in scale.channel)
    scale, height, width = scale.coarser, height // 2, width // 2


PRECISIONS = ('fp32', 'bf16')


def autocast(precision):
  """The context the forward passes run in at `precision`."""
  if precision == 'bf16':
    return torch.autocast('cpu', dtype=torch.bfloat16)
  return contextlib.nullcontext()


def training_step(model, x, learning_rate=1e-3, l2=5e-5, clip_norm=100.,
                  precision='fp32'):
  """A function running one training step on `x`, returning the loss.

  The loss is the mean NLL in nats; the L2 on the weight-norm scales is
  Adam's `weight_decay` on their parameter group, and each group's gradient
  is clipped to norm `clip_norm`. The forward pass runs in `autocast`.
  """
  scales = [p for n, p in model.named_parameters() if n.endswith('_g')]
  others = [p for n, p in model.named_parameters() if not n.endswith('_g')]
  optimizer = torch.optim.Adam([{'params': scales, 'weight_decay': l2},
                                {'params': others}], lr=learning_rate)

  def step():
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with autocast(precision):
      loss = -model.log_prob(x).float().mean()
    loss.backward()
    for group in optimizer.param_groups:
      nn.utils.clip_grad_norm_(group['params'], clip_norm)
    optimizer.step()
    return loss.item()

  return step


def log_prob_pass(model, x, precision='fp32'):
  """A function returning `log_prob(x)` in evaluation mode, without grad."""
  def run():
    model.eval()
    with torch.no_grad(), autocast(precision):
      return model.log_prob(x)
  return run


def sample_pass(model, n, precision='fp32'):
  """A function drawing `n` images in evaluation mode, without grad."""
  def run():
    model.eval()
    with torch.no_grad(), autocast(precision):
      return model.sample(n)
  return run


def measure(image_shape, num_scales, num_blocks, num_filters, batch_size,
            seconds, threads=THREADS, precision='fp32'):
  """Times the reference as `benchmark_lib.measure` times ours; run it in a
  fresh process. The first step covers building the model and the step."""
  torch.set_num_threads(threads)
  torch.manual_seed(0)
  start = time.perf_counter()
  model = RealNVP(image_shape, num_scales, num_blocks, num_filters)
  height, width, channels = image_shape
  x = torch.rand(batch_size, channels, height, width) * 256
  train_step = training_step(model, x, precision=precision)
  train_step()
  first_step = time.perf_counter() - start
  train = images_per_second(train_step, batch_size, seconds)
  train_rss = peak_rss_gb()  # Training runs first: this is its peak.
  log_prob_fn = log_prob_pass(model, x, precision)
  log_prob_fn()
  log_prob = images_per_second(log_prob_fn, batch_size, seconds)
  sample_fn = sample_pass(model, batch_size, precision)
  sample_fn()
  sample = images_per_second(sample_fn, batch_size, seconds)
  return {
      'implementation': f'torch {torch.__version__} (chrischute/real-nvp '
                        'architecture)',
      'precision': precision, 'threads': threads, 'batch_size': batch_size,
      'event_shape': list(image_shape),
      'num_parameters': num_parameters(model),
      'forward_gflop_per_image': forward_flops(model) / 1e9,
      'train_images_per_s': train, 'log_prob_images_per_s': log_prob,
      'sample_images_per_s': sample, 'first_train_step_s': first_step,
      'train_peak_rss_gb': train_rss, 'peak_rss_gb': peak_rss_gb(),
  }


def peak_gflops(precision, sizes=(1024, 2048, 4096), repeats=5,
                threads=THREADS):
  """Best GFLOP/s of PyTorch's kernels at `precision`, by kind.

  `{'matrix product': best over square sides `sizes`, '3x3 convolution':
  PEAK_CONVOLUTION's forward pass (channels-last, as the flow runs it)}`;
  bf16 operands are bfloat16 tensors, as autocast makes them.
  """
  torch.set_num_threads(threads)
  dtype = torch.bfloat16 if precision == 'bf16' else torch.float32

  def best(run, flops):
    with torch.no_grad():
      return best_gflops(run, flops, repeats)

  matmul = 0.
  for size in sizes:
    a = torch.randn(size, size).to(dtype)
    b = a.t().contiguous()
    matmul = max(matmul, best(lambda: (a @ b).sum().item(), 2 * size**3))
  (batch, height, width, channels), side, out = PEAK_CONVOLUTION
  x = torch.randn(batch, channels, height, width).to(dtype).to(
      memory_format=torch.channels_last)
  kernel = torch.randn(out, channels, side, side).to(dtype).to(
      memory_format=torch.channels_last)
  conv = best(lambda: F.conv2d(x, kernel, padding=side // 2).sum().item(),
              PEAK_CONVOLUTION_FLOPS)
  return {'matrix product': matmul, '3x3 convolution': conv}


def _main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  ints = lambda text: tuple(int(n) for n in text.split(','))
  parser.add_argument('--image_shape', type=ints, default=(32, 32, 3),
                      help='height,width,channels')
  parser.add_argument('--num_scales', type=int, default=2)
  parser.add_argument('--num_blocks', type=int, default=8)
  parser.add_argument('--num_filters', type=int, default=64)
  parser.add_argument('--batch_size', type=int, default=64)
  parser.add_argument('--seconds', type=float, default=10.,
                      help='Time each of train, log_prob and sample this long.')
  parser.add_argument('--threads', type=int, default=THREADS)
  parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                      help='bf16: the forward passes under torch.autocast.')
  parser.add_argument('--count', action='store_true',
                      help='Only print the parameter and FLOP counts.')
  parser.add_argument('--peak', type=ints, default=None,
                      help='Only print the best GFLOP/s of matrix products '
                      'of these sides and of a 3x3 convolution.')
  args = parser.parse_args()
  if args.peak:
    row = peak_gflops(args.precision, args.peak, threads=args.threads)
  elif args.count:
    with torch.device('meta'):  # Shapes only: no memory, no initialisation.
      model = RealNVP(args.image_shape, args.num_scales, args.num_blocks,
                      args.num_filters)
    row = {'num_parameters': num_parameters(model),
           'forward_gflop_per_image': forward_flops(model) / 1e9}
  else:
    row = measure(args.image_shape, args.num_scales, args.num_blocks,
                  args.num_filters, args.batch_size, args.seconds,
                  args.threads, args.precision)
  print(json.dumps(row), flush=True)


if __name__ == '__main__':
  _main()
