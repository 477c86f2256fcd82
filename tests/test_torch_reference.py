"""bin/torch_reference.py: the PyTorch reference flow and its benchmark row."""

import math
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip(
    'torch', reason="PyTorch not installed: pip install 'tfp_realnvp[torch]'")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'bin'))

import torch_reference  # pylint: disable=g-import-not-at-top,wrong-import-position

# One thread: two spin-waiting threads crawl on a machine shared with others.
torch.set_num_threads(1)

TINY = dict(image_shape=(8, 8, 3), num_scales=2, num_blocks=1, num_filters=4)


def _tiny_model(dtype=torch.float32, trained_steps=2):
  """A tiny model, its batch norms' averages and parameters moved off their
  start (a fresh model's couplings are near the identity)."""
  torch.manual_seed(0)
  model = torch_reference.RealNVP(**TINY)
  with torch.no_grad():
    for name, p in model.named_parameters():
      if name.endswith('rescale_g'):
        p.uniform_(0.5, 1.5)
  step = torch_reference.training_step(
      model, torch.rand(16, 3, 8, 8) * 256, learning_rate=1e-2)
  for _ in range(trained_steps):
    step()
  return model.to(dtype).eval()


def test_log_prob_is_finite_and_near_uniform_pixels_at_start():
  torch.manual_seed(1)
  model = torch_reference.RealNVP(**TINY)
  x = torch.rand(4, 3, 8, 8) * 256
  log_prob = torch_reference.log_prob_pass(model, x)()
  assert log_prob.shape == (4,) and torch.isfinite(log_prob).all()
  # Untrained, bits/dim are of the order of the logit's prior fit: a few to
  # a dozen bits, never the 8 of uniform pixels minus much.
  bits_per_dim = -log_prob / (8 * 8 * 3 * math.log(2))
  assert ((bits_per_dim > 5) & (bits_per_dim < 20)).all(), bits_per_dim


def test_forward_then_inverse_is_the_identity():
  model = _tiny_model(torch.float64)
  x = torch.rand(3, 3, 8, 8, dtype=torch.float64) * 255 + 0.5
  with torch.no_grad():
    z, _ = model(x)
    assert z.shape == x.shape
    assert not torch.allclose(z, x)
    np.testing.assert_allclose(model.inverse(z), x, rtol=0, atol=1e-9)
    z2 = torch.randn(3, 3, 8, 8, dtype=torch.float64)
    np.testing.assert_allclose(model(model.inverse(z2))[0], z2, rtol=0,
                               atol=1e-8)


def test_log_det_matches_a_brute_force_jacobian():
  model = _tiny_model(torch.float64)
  x = torch.rand(1, 3, 8, 8, dtype=torch.float64) * 255 + 0.5
  jacobian = torch.autograd.functional.jacobian(lambda v: model(v)[0], x,
                                                vectorize=True)
  _, log_abs_det = torch.linalg.slogdet(jacobian.reshape(192, 192))
  with torch.no_grad():
    _, log_det = model(x)
  assert log_det.item() == pytest.approx(log_abs_det.item(), abs=1e-8)


def test_squeezes_invert_and_factor_out_keeps_the_diagonal_pixels():
  x = torch.arange(2 * 2 * 4 * 4.).reshape(2, 2, 4, 4)
  for squeeze, unsqueeze in [
      (torch_reference.squeeze, torch_reference.unsqueeze),
      (torch_reference.squeeze_diagonal_first,
       torch_reference.unsqueeze_diagonal_first)]:
    assert torch.equal(unsqueeze(squeeze(x)), x)
    # In and out channels-last, oneDNN's layout (no reorders).
    squeezed = squeeze(x.contiguous(memory_format=torch.channels_last))
    assert torch.equal(squeezed, squeeze(x))
    assert squeezed.is_contiguous(memory_format=torch.channels_last)
    assert unsqueeze(squeezed).is_contiguous(
        memory_format=torch.channels_last)
  # Channel 4c + 2i + j holds pixel (i, j) of channel c's 2x2 blocks.
  assert torch.equal(torch_reference.squeeze(x)[:, 4 + 2], x[:, 1, 1::2, ::2])
  on = torch_reference.squeeze_diagonal_first(x)[:, :4]
  assert torch.equal(on[:, :2], x[:, :, ::2, ::2])
  assert torch.equal(on[:, 2:], x[:, :, 1::2, 1::2])


def test_paper_model_size():
  # chrischute/real-nvp at the paper's CIFAR-10 widths: 19.6 M parameters.
  with torch.device('meta'):
    model = torch_reference.RealNVP((32, 32, 3), num_scales=2, num_blocks=8,
                                    num_filters=64)
  assert torch_reference.num_parameters(model) == 19_631_640
  assert torch_reference.forward_flops(model) / 1e9 == pytest.approx(
      12.91, abs=0.01)


def test_flop_count_is_what_a_pass_runs():
  # Counted from the convolutions a log_prob pass executes, independently of
  # the flow's structure.
  model = torch_reference.RealNVP(**TINY)
  executed = 0

  def count(module, inputs, output):
    nonlocal executed
    executed += 2 * output[0, 0].numel() * module.weight_v.numel()

  for m in model.modules():
    if isinstance(m, torch_reference.WeightNormConv2d):
      m.register_forward_hook(count)
  torch_reference.log_prob_pass(model, torch.rand(1, 3, 8, 8) * 256)()
  assert executed == torch_reference.forward_flops(model)


def test_training_steps_lower_the_loss():
  torch.manual_seed(2)
  model = torch_reference.RealNVP(**TINY)
  step = torch_reference.training_step(model, torch.rand(8, 3, 8, 8) * 256)
  losses = [step() for _ in range(5)]
  assert all(math.isfinite(l) for l in losses) and losses[-1] < losses[0]
  samples = torch_reference.sample_pass(model, 5)()
  assert samples.shape == (5, 3, 8, 8) and torch.isfinite(samples).all()


def test_bf16_runs_the_networks_in_bfloat16_and_trains():
  torch.manual_seed(0)
  model = torch_reference.RealNVP((8, 8, 3), 2, 1, 4)
  seen = []
  model.flow.checkerboard[0].net.register_forward_hook(
      lambda module, inputs, output: seen.append(output.dtype))
  step = torch_reference.training_step(model, torch.rand(8, 3, 8, 8) * 256,
                                       precision='bf16')
  losses = [step() for _ in range(5)]
  assert seen[0] == torch.bfloat16
  assert all(math.isfinite(l) for l in losses) and losses[-1] < losses[0]
  assert all(p.dtype == torch.float32 for p in model.parameters())
  log_prob = torch_reference.log_prob_pass(
      model, torch.rand(4, 3, 8, 8) * 256, 'bf16')()
  assert torch.isfinite(log_prob).all()


def test_benchmark_reference_row_and_comparison():
  import benchmark_lib  # pylint: disable=g-import-not-at-top
  reference = benchmark_lib.run_reference('tiny', 0.05, batch_size=4,
                                          image_size=16, threads=1)
  for key in ('train_images_per_s', 'log_prob_images_per_s',
              'sample_images_per_s', 'first_train_step_s',
              'train_peak_rss_gb', 'peak_rss_gb', 'num_parameters',
              'forward_gflop_per_image'):
    assert reference[key] > 0, key
  assert (reference['config'], reference['batch_size'],
          reference['event_shape'], reference['threads']) == (
              'tiny', 4, [16, 16, 3], 1)
  assert reference['implementation'].startswith('torch ')

  ours = dict(reference, precision='fp32', jit_compile=False,
              recompute_gradients=True,
              train_images_per_s=2 * reference['train_images_per_s'])
  other_batch = dict(ours, batch_size=8)
  assert benchmark_lib.ratios(ours, reference)['train_images_per_s'] == 2
  lines = benchmark_lib.comparison_table([ours, other_batch],
                                         [reference]).splitlines()
  assert len(lines) == 3  # Header, rule, and the row with a reference.
  cells = lines[2].strip('| ').split(' | ')
  assert cells[:6] == ['tiny', 'fp32', 'False', 'True', '4', '16x16']
  assert cells[6].endswith(' = 2.00') and cells[-1].endswith(' = 1.00')


def test_both_peaks_run_in_bf16_and_count_each_kernels_flops(monkeypatch):
  import benchmark_lib  # pylint: disable=g-import-not-at-top
  ours = benchmark_lib.measure_peak('bf16', sizes=(32, 64), repeats=1)
  theirs = benchmark_lib.reference_peak('bf16', sizes=(32, 64), threads=1)
  for peaks in ours, theirs:
    assert set(peaks) == {'matrix product', '3x3 convolution'}
    assert all(gflops > 0 for gflops in peaks.values())
  # The best size's products over its time; the convolution's likewise.
  one_second = lambda run, flops, repeats: (run(), flops / 1e9)[1]
  monkeypatch.setattr(benchmark_lib, '_best_gflops', one_second)
  monkeypatch.setattr(torch_reference, 'best_gflops', one_second)
  expected = {'matrix product': 2 * 64**3 / 1e9,
              '3x3 convolution': 2 * 64 * 32 * 32 * 64 * 64 * 9 / 1e9}
  assert benchmark_lib.measure_peak('fp32', sizes=(32, 64)) == expected
  assert torch_reference.peak_gflops('fp32', sizes=(32, 64),
                                     threads=1) == expected


def test_missing_torch_is_one_line_naming_the_install(monkeypatch):
  import benchmark_lib  # pylint: disable=g-import-not-at-top
  assert benchmark_lib.torch_available()
  monkeypatch.setitem(sys.modules, 'torch', None)
  assert not benchmark_lib.torch_available()
  assert "pip install 'tfp_realnvp[torch]'" in benchmark_lib.TORCH_MISSING
  assert '\n' not in benchmark_lib.TORCH_MISSING
