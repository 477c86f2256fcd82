"""The command-line programs, absl apps over the library.

Each module is one program, run as a console script, `python -m`, or from a
checkout through bin/:

```none
tfp-realnvp-train           python -m tfp_realnvp.programs.train           bin/train
tfp-realnvp-evaluate        python -m tfp_realnvp.programs.evaluate        bin/evaluate
tfp-realnvp-sample          python -m tfp_realnvp.programs.sample          bin/sample
tfp-realnvp-export          python -m tfp_realnvp.programs.export          bin/export
tfp-realnvp-latent-figures  python -m tfp_realnvp.programs.latent_figures  bin/latent_figures
tfp-realnvp-params          python -m tfp_realnvp.programs.params          bin/params
```

They need the `programs` extra (`pip install 'tfp_realnvp[programs]'`).
"""
