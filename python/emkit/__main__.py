"""``python -m emkit`` (also what ``torchrun -m emkit run ...`` starts)."""

from emkit.cli.app import main

if __name__ == "__main__":
    main()
