"""Install the automation blueprints shipped with the integration.

The blueprints live in `blueprints/automation/` of the integration (so HACS installs
them); Home Assistant only offers those in `<config>/blueprints/automation/`. The one in
the language of Home Assistant (Italian for "it", else English) is copied into
`<config>/blueprints/automation/thor/` when that file is missing there. A file the user
has is never overwritten, so an edited copy stays as it is; deleting it brings back the
shipped version at the next start.
"""

from pathlib import Path
import shutil
from typing import Final

from homeassistant.core import HomeAssistant

from .const import DOMAIN, LOGGER

SHIPPED: Final = Path(__file__).parent / "blueprints" / "automation"
BLUEPRINTS: Final = {"en": ("solar_surplus.yaml",), "it": ("solar_surplus_it.yaml",)}
"""The shipped blueprint files to install, by language."""


def blueprint_files(language: str) -> tuple[str, ...]:
    """Return the shipped blueprint files for a language ("it-CH" counts as "it")."""
    return BLUEPRINTS.get(language.split("-", maxsplit=1)[0].lower(), BLUEPRINTS["en"])


def _install(target: Path, files: tuple[str, ...]) -> list[Path]:
    """Copy the files missing in `target` there; return those copied."""
    installed: list[Path] = []
    for name in files:
        destination = target / name
        if destination.exists():
            continue
        target.mkdir(parents=True, exist_ok=True)
        try:
            # "x": never overwrite, even a file created since the check above.
            with (SHIPPED / name).open("rb") as source, destination.open("xb") as copy:
                shutil.copyfileobj(source, copy)
        except FileExistsError:
            continue
        installed.append(destination)
    return installed


async def async_install_blueprints(hass: HomeAssistant) -> None:
    """Copy the blueprints in Home Assistant's language that the user does not have."""
    target = Path(hass.config.path("blueprints", "automation", DOMAIN))
    try:
        installed = await hass.async_add_executor_job(
            _install, target, blueprint_files(hass.config.language)
        )
    except OSError as err:
        LOGGER.warning("Could not install the Thor blueprints in %s: %s", target, err)
        return
    for path in installed:
        LOGGER.info("Installed the blueprint %s", path)
