"""The lecture's PyTorch seminar, reproduced as files, one animation per step.

    python examples/seminar.py [FOLDER] [--png]

1. logistic regression on linear data; 2. the same on moons (it fails); 3. a sigmoid MLP on moons;
4. three classes with cross-entropy; 5. momentum; 6. weight decay; 7. dropout; 8. fine-tuning trained
weights with two layers frozen, beside the same without freezing.
The steps live in gradviz.gallery.SEMINAR, so `gradviz gallery` rebuilds the same files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gradviz.gallery import SEMINAR, build_seminar


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = Path(args[0] if args else "seminar")
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".png" if "--png" in sys.argv else ".gif"
    for (stem, caption, _), path in zip(SEMINAR, build_seminar(folder, suffix=suffix)):
        print(f"{path}: {caption}")


if __name__ == "__main__":
    main()
