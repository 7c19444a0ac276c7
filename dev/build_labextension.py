"""Build the prebuilt labextension against the JupyterLab installed in this environment.

``jupyter-builder`` otherwise looks the core package metadata up online; the installed
JupyterLab ships it (``jupyterlab/staging/package.json``), so the build works offline.
"""

import subprocess
import sys
from pathlib import Path

import jupyterlab

core = Path(jupyterlab.__file__).parent / "staging" / "package.json"
args = ["jupyter-builder", "build", "--core-package-file", str(core), *sys.argv[1:], "."]
sys.exit(subprocess.call(args))
