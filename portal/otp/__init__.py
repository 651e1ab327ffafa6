"""两步验证 (动态口令, TOTP): enrolment, the second login step, removal and the admin site's check.

Built on django-otp's TOTPDevice (one confirmed device per user). A user with a confirmed device
is logged in only after the code is checked, on the web form and on the API's token login alike;
the Django admin (/admin/) requires a verified session from everyone.
"""
