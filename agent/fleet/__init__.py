"""The fleet: `shain worker`s on many machines take runs from a Redis queue (Celery).

Only the modules here that say so import Celery or redis (the optional extra `shain[fleet]`),
and the command line imports them lazily: the rest of Shain runs without either.
"""
