"""``python -m trackline`` runs the command line."""

from trackline.cli import main

main()
