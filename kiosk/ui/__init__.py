"""The Kivy UI of the kiosk: app (composition root), screens, widgets, theme. Only this package imports Kivy."""
