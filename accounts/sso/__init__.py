"""Single sign-on (OpenID Connect) and SCIM 2.0 provisioning, per organisation.

models.py: the per-organisation configuration, identities, tokens and the log;
oidc.py: discovery, the authorization request and ID-token validation (joserfc);
services.py: sign-in and just-in-time provisioning; scim.py: the SCIM storage behind
scim2-server; views.py / scim_views.py: the pages and the /scim/v2/ endpoint.
"""
