"""API tokens (令牌): one per device, stored hashed, with an idle and an absolute lifetime.

`models.ApiToken` is the row, `services` issue and revoke them (each audited), `authentication`
reads the `Authorization: Token <key>` header, `views` is the user's page (登录设备).
"""
