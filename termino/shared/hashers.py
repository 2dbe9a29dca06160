from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

    Django's defaults (100 MiB, 8 lanes) cost ~200 ms per hash on a 2-core server, which would dominate
    signup and login; on 2 cores the extra lanes buy no strength. Hashes made with other parameters are
    upgraded on the next login (Django's must_update).
    """

    time_cost = 2
    memory_cost = 19456
    parallelism = 1
