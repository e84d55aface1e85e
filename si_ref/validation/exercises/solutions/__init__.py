"""Reference solutions of the classroom exercises, one module per exercise, same function names.

Try the exercise first. ``python -m si_ref.validation.exercises.solutions.<name>`` runs the
exercise's check on the solution; ``python -m si_ref.validation.exercises --solutions``
checks them all.
"""
