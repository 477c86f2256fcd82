"""Figures of a trained model's latent space, as PNG grids."""

import tensorflow as tf

from tfp_realnvp import data
from tfp_realnvp import latent
from tfp_realnvp import storage
from tfp_realnvp.training import experiment
from tfp_realnvp.training import images

__all__ = ['latent_figures']


def latent_figures(model_dir, out_dir, size=8, temperatures=(0.5, 0.7, 1.),
                   seed=0):
  """Writes the paper's latent-space figures of `model_dir`'s model.

  - `manifold.png`: the manifold of the latents of four validation images
    (eq. 19), a `size` x `size` grid; its corners are the four images.
  - `scales.png`: per-scale resampling (the paper's appendix). Row k keeps the
    k coarsest scales' latents of the same `size` validation images and draws
    the rest at temperature 0.7; the last row keeps every scale (the images).
  - `temperature.png`: one row of samples per temperature, same latents.

  Returns the paths. For unconditional models. A temperature that is not a
  finite number > 0, a `size` below 4 (the manifold's corners are 4 images)
  and an `out_dir` that cannot be a directory raise before the model loads.
  """
  if not temperatures:
    raise ValueError('temperatures is empty; expected at least one')
  for temperature in temperatures:
    latent.check_temperature(temperature)
  if isinstance(size, bool) or not isinstance(size, int) or size < 4:
    raise ValueError(f'size must be an integer >= 4 (the manifold needs 4 '
                     f'images); got {size!r}.')
  out_dir = storage.check_writable(out_dir, 'out_dir', directory=True)
  model, config = experiment.load_model(model_dir)
  if config.conditional:
    raise ValueError(f'{model_dir} holds a conditional model; latent figures '
                     'are drawn for unconditional ones')
  dist = model.distribution
  x = next(iter(data.load(config.dataset, 'validation', config.data_dir,
                          image_size=config.image_size).batch(size)))
  if x.shape[0] < 4:
    raise ValueError(f'the manifold needs 4 validation images; got '
                     f'{x.shape[0]}')

  z = latent.encode(dist, x[:4])
  grid_z = tf.reshape(latent.manifold(*tf.unstack(z), size=size),
                      [size * size, *z.shape[1:]])
  manifold = dist.bijector.forward(grid_z)
  scales = len(dist.bijector.scales)
  kept = [latent.resample_scales(dist, x, keep, 0.7, seed)
          for keep in range(scales + 1)]
  hot = [latent.sample(dist, size, t, seed) for t in temperatures]
  out = lambda name: storage.join(out_dir, name)
  return [
      images.write_png(out('manifold.png'), manifold, columns=size),
      images.write_png(out('scales.png'), tf.concat(kept, 0),
                       columns=x.shape[0]),
      images.write_png(out('temperature.png'), tf.concat(hot, 0),
                       columns=size),
  ]
