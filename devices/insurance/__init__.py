"""Insurance-card capture and reading (issue 8). Modules: base.py (Protocol + data), finder.py, gates.py,
capture.py (auto-capture), ocr.py + fields.py + barcode_fields.py (reading), reader.py ("tesseract"
backend), simulated.py ("simulated" backend).

API for the capture / confirm screens (kiosk/ui; nothing here imports Kivy)
---------------------------------------------------------------------------
The runtime builds the reader from ``[devices.insurance]``: ``runtime.devices.insurance`` (a
:class:`~devices.insurance.base.CardReader`, ``None`` when disabled → offer manual entry only) and the camera
``runtime.devices.camera``. The screen owns the camera's start/stop, as the identify screen does::

    from devices.insurance.capture import (CardCapture, CapturePolicy, GuidanceEvent, CapturingEvent,
                                           SideReadEvent, SideFailedEvent)
    from devices.insurance.base import merge_sides, Guidance

    capture = CardCapture(camera, reader, on_event)   # on_event runs on the worker thread:
    camera.start(); capture.start("front")            #   marshal it with kivy.clock.mainthread
    ...
    capture.capture_now()                             # the "take photo" button (always shown)
    capture.start("back")                             # after the front was read (or "skip back")
    capture.stop(); camera.stop()                     # leaving the screen (also on idle reset)

Events (frozen dataclasses):

- ``GuidanceEvent(side, quality, step)`` per judged frame (≤ 15/s): ``quality.guidance`` is a
  :class:`Guidance` key — ``"card_not_found" | "move_closer" | "hold_still" | "tilt_for_glare" | "ok"`` (the UI
  owns the words); ``quality.corners`` (4 (x, y) in frame pixels, or None) to draw the found outline;
  ``step.steady`` / ``step.needed`` for a progress ring; ``step.manual_hint`` (True after 12 s without a
  capture) → emphasise "Type it in" and "Continue without insurance".
- ``CapturingEvent(side, manual)``: frames taken, OCR running (~0.4 s): show "Reading your card…".
- ``SideReadEvent(side, result)``: ``result`` is a :class:`~devices.insurance.base.CardSide` —
  ``found`` (False: no card outline; the photo is kept, nothing read: offer retake / type it in),
  ``fields[name] -> FieldValue(value, confidence)``, ``image`` (a ``kiosk.flow.types.CardImage`` JPEG of the
  flattened card), ``copays``, ``barcode``.
- ``SideFailedEvent(side, reason)``: ``"no_frame" | "reader_error"`` → retake or manual entry.

Confirm screen: ``reading = merge_sides([front, back])`` → ``reading.fields`` (names: ``member_id``,
``group_number``, ``payer_name``, ``plan_name``, ``subscriber_name``, ``rx_bin``, ``rx_pcn``, ``rx_group``) with
confidences (e.g. highlight < 0.8 for checking), ``reading.images``. Show the member ID masked
(``kiosk.flow.intake.mask_member_id``) until tapped. Then submit to the flow (STEPS.md, insurance)::

    {"action": "camera", "member_id": ..., "payer_name": ..., "group_number": ..., "subscriber_name": ...,
     "plan_name": ..., "rx_bin": ..., "rx_pcn": ..., "rx_group": ...,          # as confirmed / corrected
     "images": [{"side": i.side, "content_type": i.content_type, "data": i.data} for i in reading.images]}

Errors come back per field (``required``, ``invalid_member_id``, ``invalid_rx_bin``, ``too_long``) or
``base: invalid_input`` (images). ``manual``, ``self_pay`` and ``no_card`` stay available throughout.
Demo/UI tests: ``backend = "simulated"`` (real finder and gates on the replayed photos, canned fields;
``find = "always"`` makes any frame a good card) with a simulated camera replaying
``tests/fixtures/insurance/photos``. Field values, names and barcode text never go to logs.
"""
