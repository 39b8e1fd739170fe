"""Readers of real dataset files: ``vp3d`` (VideoPose3D npz), ``motionbert`` (MotionBERT pickles, opt-in),
``mpi3dhp`` (MPI-INF-3DHP), ``h36m_cdf`` (Human3.6M CDF poses), ``bvh`` and ``cmu`` (CMU motion capture),
``asf_amc`` (Acclaim ASF/AMC: CMU's original format, HDM05)."""
