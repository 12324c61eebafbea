"""Sign-in, sign-out, self-registration, my account and change-password pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from app.accounts import registration, service
from app.accounts.deps import OptionalPageUser, PageUser, PageUserAllowingPasswordChange
from app.accounts.signin import issue_token, sign_in
from app.core import i18n
from app.core.deps import AppSettings, DbSession, client_address, manual_write
from app.core.errors import N_, DomainError, Invalid, NotFound
from app.core.numbers import parse_int
from app.core.settings import Settings
from app.core.web import (
    AUTH_COOKIE,
    LANG_COOKIE,
    error_text,
    html_router,
    redirect,
    redirect_to,
    render,
    request_language,
)
from app.tenancy.deps import CurrentTenant

router = html_router()


def safe_next(value: str | None) -> str:
    """Only same-site relative paths: never redirect a user off the portal after sign-in."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


def set_auth_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        AUTH_COOKIE,
        token,
        max_age=settings.token_ttl_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


@router.get("/login", name="accounts:login")
def login_form(
    request: Request, tenant: CurrentTenant, user: OptionalPageUser, next: str | None = None
) -> Response:
    if user is not None:
        return redirect(request, safe_next(next))
    return render(request, "accounts/login.html", {"next": safe_next(next), "identifier": ""})


@router.post("/login", name="accounts:login_submit")
@manual_write
def login_submit(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    settings: AppSettings,
    identifier: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        user = sign_in(request, session, settings, identifier, password)
    except DomainError as exc:
        # The failed attempt itself is recorded: commit it even though we answer with an error page.
        session.commit()
        headers = {"Retry-After": str(exc.params["retry_after"])} if "retry_after" in exc.params else None
        return render(
            request,
            "accounts/login.html",
            {"next": safe_next(next), "identifier": identifier, "error": error_text(request, exc)},
            status_code=exc.status_code,
            headers=headers,
        )
    token, _ = issue_token(settings, tenant, user.id, user.token_version)
    if user.must_change_password:
        response = redirect_to(request, "accounts:password", query={"next": safe_next(next)})
    else:
        response = redirect(request, safe_next(next))
    set_auth_cookie(response, settings, token)
    return response


@router.post("/logout", name="accounts:logout")
def logout(request: Request, session: DbSession, user: PageUserAllowingPasswordChange) -> Response:
    service.sign_out(session, user, client_address=client_address(request))
    response = redirect_to(request, "portal:home")
    response.delete_cookie(AUTH_COOKIE, path="/")
    return response


@router.get("/account", name="accounts:account")
def account(request: Request, tenant: CurrentTenant, user: PageUser) -> Response:
    return render(request, "accounts/account.html", {"user": user})


@router.get("/account/password", name="accounts:password")
def password_form(
    request: Request, tenant: CurrentTenant, user: PageUserAllowingPasswordChange, next: str | None = None
) -> Response:
    return render(
        request, "accounts/password.html", {"next": safe_next(next), "forced": user.must_change_password}
    )


@router.post("/account/password", name="accounts:password_submit")
def password_submit(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    settings: AppSettings,
    user: PageUserAllowingPasswordChange,
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
    confirm_password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    forced = user.must_change_password
    lang = request_language(request)
    error: str | None = None
    if new_password != confirm_password:
        error = i18n.translate(lang, N_("The two new passwords do not match."))
    else:
        try:
            service.change_password(
                session,
                user,
                current_password=current_password,
                new_password=new_password,
                min_length=settings.password_min_length,
                client_address=client_address(request),
                secret_key=settings.secret_key,
            )
        except DomainError as exc:
            error = error_text(request, exc)
    if error:
        return render(
            request,
            "accounts/password.html",
            {"next": safe_next(next), "forced": forced, "error": error},
            status_code=422,
        )
    token, _ = issue_token(settings, tenant, user.id, user.token_version)
    if forced:
        response = redirect(request, safe_next(next))
    else:
        response = redirect_to(request, "accounts:account", query={"changed": 1})
    set_auth_cookie(response, settings, token)
    return response


@router.post("/lang", name="accounts:language")
def set_language(
    request: Request,
    lang: Annotated[str, Form(max_length=5)] = "vi",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    chosen = i18n.pick_language(lang)
    response = redirect(request, safe_next(next))
    response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


@router.get("/register", name="accounts:register")
def register_form(
    request: Request, session: DbSession, tenant: CurrentTenant, user: OptionalPageUser
) -> Response:
    """Citizens sign themselves up where the portal allows it (404 elsewhere)."""
    if not tenant.self_registration:
        raise NotFound(N_("Page not found."), code="no_self_registration")
    if user is not None:
        return redirect_to(request, "courses:list")
    return render(
        request, "accounts/register.html", {"form": {}, "units": registration.residence_units(session)}
    )


@router.post("/register", name="accounts:register_submit")
def register_submit(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    settings: AppSettings,
    full_name: Annotated[str, Form(max_length=200)] = "",
    contact: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    confirm_password: Annotated[str, Form(max_length=200)] = "",
    unit_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    if not tenant.self_registration:
        raise NotFound(N_("Page not found."), code="no_self_registration")
    form = {"full_name": full_name, "contact": contact, "unit_id": unit_id}
    throttle = registration.RegistrationThrottle(
        request.app.state.failure_counter, settings.register_window_seconds, settings.register_max_per_address
    )
    try:
        registration.check_throttle(throttle, client_address(request))
        unit = parse_int(unit_id, minimum=1) if unit_id else None
        if unit_id and unit is None:
            raise Invalid(N_("Choose your commune or ward from the list."), code="unit")
        if password != confirm_password:
            raise Invalid(N_("The two passwords do not match."), code="password")
        user = registration.register_citizen(
            session,
            full_name=full_name,
            contact=contact,
            password=password,
            password_min_length=settings.password_min_length,
            client_address=client_address(request),
            unit_id=unit,
        )
    except registration.ContactUnavailable as exc:
        # Neutral: the same page whoever owns the number or address, with the way to sign in.
        units = registration.residence_units(session)
        context = {"form": form, "notice": error_text(request, exc), "units": units}
        return render(request, "accounts/register.html", context)
    except DomainError as exc:
        headers = {"Retry-After": str(exc.params["retry_after"])} if "retry_after" in exc.params else None
        return render(
            request,
            "accounts/register.html",
            {"form": form, "error": error_text(request, exc), "units": registration.residence_units(session)},
            status_code=exc.status_code,
            headers=headers,
        )
    token, _ = issue_token(settings, tenant, user.id, user.token_version)
    response = redirect_to(request, "courses:list", query={"welcome": user.username})
    set_auth_cookie(response, settings, token)
    return response
