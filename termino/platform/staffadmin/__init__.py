"""The superadmin of platform staff at https://BASE_DOMAIN/staff/ (public schema).

Staff sign in with password and TOTP, look after businesses (list, detail, suspend, reactivate, extend a
trial, lock SMS) and may act as a business user for a while (impersonation). Every action leaves an entry
in the append-only StaffAction log.
"""
