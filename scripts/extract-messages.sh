#!/usr/bin/env bash
# Extract every translatable string of kiosk/ and devices/ (keywords _ and N_, in .py and .kv files) into
# kiosk/locale/kiosk.pot and merge it into each language's kiosk.po. New strings arrive untranslated:
# translate them (tests/ui/test_catalogs.py fails until every msgid has a translation).
# Usage: scripts/extract-messages.sh [lang ...]      (default: every catalog under kiosk/locale, plus es)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-pybabel}"
if ! command -v "$PYBABEL" >/dev/null 2>&1 && [ -x .venv/bin/pybabel ]; then PYBABEL=.venv/bin/pybabel; fi

LOCALE_DIR=kiosk/locale
POT="$LOCALE_DIR/kiosk.pot"

"$PYBABEL" -q extract -F "$LOCALE_DIR/babel.cfg" -k _ -k N_ -k ngettext:1,2 --add-comments=TRANSLATORS: \
    --ignore-dirs=".* _* node_modules tests packaging bench" \
    --project "open-checkin-kiosk" --copyright-holder "open-checkin-kiosk contributors" \
    --msgid-bugs-address "" --sort-by-file --width 110 -o "$POT" .

langs=("$@")
if [ ${#langs[@]} -eq 0 ]; then
    langs=(es)
    for po in "$LOCALE_DIR"/*/LC_MESSAGES/kiosk.po; do
        [ -e "$po" ] || continue
        l="$(basename "$(dirname "$(dirname "$po")")")"
        [[ " ${langs[*]} " == *" $l "* ]] || langs+=("$l")
    done
fi

for lang in "${langs[@]}"; do
    po="$LOCALE_DIR/$lang/LC_MESSAGES/kiosk.po"
    if [ -e "$po" ]; then
        "$PYBABEL" -q update -D kiosk -i "$POT" -d "$LOCALE_DIR" -l "$lang" --width 110 --no-fuzzy-matching \
            --ignore-obsolete
    else
        "$PYBABEL" -q init -D kiosk -i "$POT" -d "$LOCALE_DIR" -l "$lang" --width 110
    fi
    echo "updated $po"
done
