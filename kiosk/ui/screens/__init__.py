"""One Screen per check-in step (``<step>.py`` + ``<step>.kv``), in flow order."""

from __future__ import annotations

from kiosk.ui.screens.base import KioskScreen, load_screen_kv
from kiosk.ui.screens.confirm_appointment import ConfirmAppointmentScreen
from kiosk.ui.screens.consents import ConsentsScreen
from kiosk.ui.screens.demographics import DemographicsScreen
from kiosk.ui.screens.desk import DeskScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.forms import FormsScreen
from kiosk.ui.screens.identify import IdentifyScreen
from kiosk.ui.screens.identify_dob import IdentifyDobScreen
from kiosk.ui.screens.insurance import InsuranceScreen
from kiosk.ui.screens.payment import PaymentScreen
from kiosk.ui.screens.ticket import TicketScreen
from kiosk.ui.screens.welcome import WelcomeScreen

SCREEN_CLASSES: dict[str, type[KioskScreen]] = {
    cls.step: cls
    for cls in (
        WelcomeScreen,
        IdentifyScreen,
        IdentifyDobScreen,
        ConfirmAppointmentScreen,
        DemographicsScreen,
        InsuranceScreen,
        FormsScreen,
        ConsentsScreen,
        PaymentScreen,
        TicketScreen,
        DoneScreen,
        DeskScreen,
    )
}


def load_all_kv() -> None:
    """Load every screen's kv rules (after ``kiosk.ui.theme.load_kv()``)."""
    load_screen_kv("editing")  # shared by several screens: first
    for step in SCREEN_CLASSES:
        load_screen_kv(step)


__all__ = ["SCREEN_CLASSES", "KioskScreen", "load_all_kv"]
