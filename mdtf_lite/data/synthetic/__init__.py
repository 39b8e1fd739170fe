"""The motion generator behind the default dataset: ``body`` (bone lengths, forward kinematics),
``actions`` (per-action joint-angle curves), ``synth`` (takes), ``noise`` (detector errors),
``motion_stats`` (realism statistics) and ``default`` (building ``data/default/``)."""
