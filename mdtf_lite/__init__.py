"""mdtf-lite: a readable, CPU-first re-implementation of MDTF (arXiv 2505.20611).

MDTF lifts a sequence of 2D human keypoints to 3D with a Bone Aware Module, GCN-enhanced
bidirectional Mamba blocks over the joints of each frame, Mamba blocks over time, and a
spatiotemporal refinement stack.  The notebooks in ``notebooks/`` derive each piece and then
import it from here, so every line of model code lives once, in this package.

Glossary of tensor letters (used in every docstring and shape comment):

    B   batch (number of clips, or clips x joints / clips x frames once folded)
    T   frames in a clip (243 in the official configs; 27 or 81 in the cheap runs)
    J   joints, always 17 (the Human3.6M skeleton, see ``mdtf_lite.skeleton``)
    C   channels of a token (embedding width: 64 tiny, 128 large)
    D   inner width of a Mamba mixer (= expand * C; expand is 1 in MDTF)
    N   state size of the selective scan (d_state, 16)
    L   sequence length seen by a scan (J = 17 for spatial mixers, T for temporal ones)
    G   groups of B/C in the grouped selective-scan form (B, G, N, L)
    K   number of polar-angle classes of the Bone Aware Module (6 bins of 30 degrees)

Coordinates: camera frame, x right, y down, z forward (depth), metres unless a name says mm.
"""

__version__ = "0.1.0"
