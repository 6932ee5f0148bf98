"""Every string the game shows, in one place (for consistency now, translation later).
Lever names and explanations come from policies/levers.yaml; everything else is here."""

from __future__ import annotations

TITLE = "Silicon Curtain"
SUBTITLE = "Export controls, gray markets and the race for AI compute"

# title / setup screen
SETUP_SCENARIO = "Scenario"
SETUP_ROLE = "Your role"
SETUP_DIFFICULTY = "Difficulty"
SETUP_TEAMS = "Hot-seat teams (other roles played by people, in turn each quarter)"
SETUP_START = "Start"
SETUP_LOAD = "Load a game"
SETUP_QUIT = "Quit"
SETUP_BOTS = "Roles nobody plays are taken by bots."
SETUP_CONTINUE = "Continue"
SETUP_CONTINUE_INFO = "Continue: {what}, {role}, {date} (month {turn} of {horizon})"
SETUP_CONTINUE_NONE = "Games are autosaved every month: Continue picks up the last one."
SETUP_LESSONS = "Lessons"
LESSONS_TITLE = "Lessons for a class"
LESSONS_INTRO = (
    "A prepared game: teams play in turn, the teacher has a facilitator's controls (F9), and "
    "the debrief ends with questions for the discussion."
)
LESSON_ROW = "<b>{title}</b><br>{summary}<br><i>{teams}; {months} months, {turn} a turn{hidden}</i>"
LESSON_ROW_HIDDEN = "; decisions hidden"
LESSON_OPEN = "Start"
DIFFICULTIES = {
    "easy": "Easy: the other side follows history",
    "normal": "Normal: the other side reacts every quarter",
    "hard": "Hard: the other side reads trends and restricts leaky hubs; no undo",
}

# top bar
PAUSE = "Pause"
PLAY = "Play"
STEP = "Step"
SPEEDS = {1: "1x", 4: "4x", 16: "16x"}
SAVE = "Save"
LOAD = "Load"
UNDO = "Undo"
HELP = "Help"
MENU = "Menu"
# the status line, and the parts it drops first when the window is narrow
MENU_TIP = "Back to the title screen (the game is autosaved)"
STATUS = "{date}  |  month {turn} of {horizon}  |  {speed}  |  playing: {role}"
STATUS_SHORTER = (
    "{date}  |  {turn}/{horizon}  |  {speed}  |  {role}",
    "{date}  |  {speed}  |  {role}",
    "{date}  |  {role}",  # whose turn it is matters more than the pause (its button shows it)
)
PAUSED = "paused"

# panels
LEVERS = "Your levers"
LEVERS_NONE = "This role has no levers."
OBJECTIVE = "Objective"
GOAL_MET = "Goal met. "
SCORE = "Score {value:.1f}  (goal {target:.1f})"
NEWS = "News"
WHY = "why?"
FAN_COMPUTING = "projecting..."
# The fan: 10-90% of futures that draw every uncertain parameter over its range, not only luck.
FAN_READY = "shaded: 10-90% of {n} futures over what we don't know"
FAN_SEEDS_ONLY = "shaded: 10-90% of {n} futures (luck only)"
FAN_STALE = "shaded: projected from {date}; updating"
FAN_SHORT = "shaded: 10-90% of futures"  # in a narrow chart, for any of the three
CHART_CAPABILITY = "Frontier capability  (thin: without your decisions)"
CHART_CAPABILITY_SHORT = "Frontier capability (thin: without you)"
BLOC_SHORT = {"us": "US", "china": "China", "allies": "Allies", "rest": "Rest"}
NO_GRAY_MARKET = "no gray market: nothing is restricted"
CHART_COMPUTE = "Compute, H100e"
CHART_GRAY = "Gray-market price, USD"
CHART_GRAY_SHORT = "Gray price, USD"
CHOICE_LABELS = {
    "open": "open",
    "capped": "capped",
    "restricted": "restricted",
    "embargoed": "embargoed",
    "rule": "follow the rule",
    "licence": "licence needed",
    "allowed": "allowed",
}
SECTION_DESTINATIONS = "Export tier by country"
EMBARGO = "embargo"
PAGE = "levers, page {page} of {pages}"
PAGE_PREV = "Previous page of levers"
PAGE_NEXT = "Next page of levers"
CYCLE_HINT = "<i>Click for the next choice, right-click for the previous one.</i>"

# windows
COUNTRY_TITLE = "{name}"
COUNTRY_BODY = (
    "<b>{name}</b> ({bloc})<br>Export tier: {tier}. Customs strength: {customs:.1f}<br>"
    "<br><b>Compute by provenance</b> (H100e)<br>{provenance}<br><b>Labs</b><br>{labs}"
    "<br><b>Policies in force</b><br>{policies}"
)
WHY_TITLE = "Why? {bloc}"
WHY_BODY = (
    "<b>Where {bloc}'s compute came from</b><br>{sources}<br>"
    "<b>Against the world without your decisions</b><br>{ghost}<br>"
    "<b>Decisions that moved it most</b><br>{decisions}<br>"
    "<b>What we don't know that moves its future most</b><br>{unknowns}"
)
WHY_NO_DECISIONS = "No decisions of yours yet."
# (parameter, higher or lower) per line; the futures it rests on at the end
WHY_UNKNOWN = "{name}: higher {direction} its capability"
WHY_UNKNOWNS_BASIS = "(across {n} projected futures; a rough guide with few)"
WHY_NO_UNKNOWNS = "No projection with drawn unknowns yet."
ERROR_TITLE = "Something went wrong"
SAVED = "Saved to {path}"
LOADED = "Loaded {path}"
UNDONE = "Undid: {what}"
NOTHING_TO_UNDO = "Nothing to undo this month."
LOAD_TITLE = "Load a saved game"

# leaving a game, and autosaves (game/play/autosave.py)
CONFIRM_LEAVE_TITLE = "Leave this game?"
CONFIRM_LEAVE = (
    "Back to the title screen? This game is autosaved: <b>Continue</b> on the title screen "
    "picks it up where you left it, in {date}."
)
CONFIRM_LEAVE_YES = "Leave"
CONFIRM_STAY = "Keep playing"
CONFIRM_QUIT_TITLE = "Quit Silicon Curtain?"
CONFIRM_QUIT = (
    "Close the game? It is autosaved: <b>Continue</b> on the title screen picks it up where "
    "you left it."
)
CONFIRM_QUIT_YES = "Quit"
CONFIRM_UNSAVED_TITLE = "The game could not be saved"
CONFIRM_UNSAVED = "The autosave failed: {error}<br><br>Leave anyway? This game would be lost."
CONFIRM_UNSAVED_YES = "Leave anyway"
AUTOSAVE_FAILED_TITLE = "Autosave failed"
AUTOSAVE_FAILED = (
    "The game could not be autosaved: {error}<br><br>The game goes on; each month tries again."
)
AUTOSAVE_FAILED_LINE = "Autosave failed: {error}"

# a lesson's first screen
LESSON_BODY = (
    "{summary}<br><br><b>{months} months</b> from {start}, <b>{turn} months a turn</b>; the "
    "teams play in this order:<br>{teams}<br>{hidden}<br><b>First: {first}.</b> Bots play "
    "the other roles."
)
LESSON_TEAM = "{n}. <b>{role}</b>: {objective}"
LESSON_HIDDEN = (
    "<i>The teams do not see each other's decisions until the facilitator reveals them.</i>"
)
LESSON_START = "Start"

# the facilitator (a teacher's controls)
FACILITATOR = "Teacher"
FACILITATOR_TIP = "Facilitator controls (F9): pause everyone, inject an event, hide or reveal"
FACILITATOR_TITLE = "Facilitator"
FAC_PAUSE = "Pause everyone"
FAC_RESUME = "Resume the game"
FAC_EVENTS = "Inject an event (from next month):"
FAC_HIDE = "Hide the teams' decisions"
FAC_REVEAL = "Reveal the teams' decisions"
FAC_INJECTED = "Injected: {name}"
FAC_FROZEN = "Paused by the facilitator"
FAC_FROZEN_HINT = "Eyes to the front. The teacher resumes the game (F9)."
FAC_HIDDEN_ON = "Decisions hidden between teams."
FAC_HIDDEN_OFF = "Decisions revealed to every team."

# hot seat
HANDOFF_TITLE = "End of the turn"
HANDOFF_BODY = "Pass the controls to the next team: {role}.<br>{objective}"
HANDOFF_CONTINUE = "Continue"

# debrief
DEBRIEF_TITLE = "Debrief: {scenario}"
DEBRIEF_SCORE = "<b>{role}: {verdict}.</b> {text}"
DEBRIEF_MET = "goal met"
DEBRIEF_MISSED = "goal missed"
DEBRIEF_DECISIONS = "Decisions that mattered"
DEBRIEF_NONE = (
    "You made no decisions: the rules in force at the start held to the end and history's "
    "later steps were not taken. That is the comparison world too, so the lines coincide."
)
DEBRIEF_AGAIN = "Play again"
DEBRIEF_QUIT = "Quit"
DEBRIEF_REPORT_WRITING = "Writing the debrief report..."
DEBRIEF_REPORT = "Report: {path}"
DEBRIEF_REPORT_BAND_COMING = "Report: {path} (adding China's gap over {n} sampled futures...)"
DEBRIEF_REPORT_BAND = "Report: {path} (with China's gap over {n} sampled futures)"
DEBRIEF_REPORT_FAILED = "The report could not be written: {error}"
DEBRIEF_OPEN = "Open the report"
DEBRIEF_QUESTIONS = "Discuss"

# help overlay
HELP_TITLE = "Keys"
HELP_BODY = (
    "<b>Space</b> pause / play<br>"
    "<b>Right arrow</b> or <b>.</b> step one month<br>"
    "<b>1 2 3</b> speed 1x, 4x, 16x<br>"
    "<b>Tab / Shift+Tab</b> move between levers<br>"
    "<b>Left / Right</b> (on a lever) change it; <b>Enter</b> toggle<br>"
    "<b>Ctrl+S</b> save, <b>Ctrl+L</b> load, <b>Ctrl+Z</b> undo<br>"
    "<b>F11</b> fullscreen, <b>F1</b> or <b>H</b> this help, <b>Esc</b> close a window<br>"
    "<b>F9</b> the facilitator's controls (pause everyone, events, hide or reveal)<br>"
    "<b>P</b> history's next steps for your role (adopt or ignore them)<br>"
    "Click a country for its labs, stock and policies; <b>why?</b> explains a bloc."
)

# a role's briefing before its first month
BRIEFING_TITLE = "Your briefing: {role}"
BRIEFING_BODY = (
    "<b>The situation</b><br>{situation}<br><br>"
    "<b>In force as the game starts</b><br>{in_force}{proposals}<br><br>"
    "<b>Your goal</b><br>{objective}<br><br>"
    "<b>Your levers</b> (hover a lever's name in the game for this again)<br>{levers}<br><br>"
    "<b>What to watch</b><br>{watch}"
)
BRIEFING_LEVER = "<b>{name}</b>: {says} <i>In reality: {mirrors}.</i>"
BRIEFING_NOTHING_IN_FORCE = "Nothing: every lever of yours starts at zero or open."
BRIEFING_PROPOSALS = (
    "<br><i>What history did next for your role comes as proposals at their dates: adopt or "
    "ignore each. Doing nothing keeps what is in force.</i>"
)
BRIEFING_HINTS = "Show hints in the first months"
BRIEFING_START = "Start"
YES = "yes"
NO = "no"

# hints in the first months of a game (switched off on the briefing or with the x)
HINTS = (
    "Your levers show what is in force. Hover a lever's name to see what it does; change one, "
    "or press Space to let time run.",
    "The thin line in the capability chart is the world without you; the dashed line and "
    "band, where your decision leads. Press Space to let time run.",
    "Click why? next to China to see where its compute comes from, or a country on the map "
    "for its labs and the rules it faces.",
)

HINT_CLOSE = "Hide the hints"

# history's steps for a played government or company, offered at their dates
PROPOSALS_TITLE = "History's next steps"
PROPOSALS_INTRO = (
    "What history did next for your role: adopt a step as your decision (Ctrl+Z undoes it) "
    "or ignore it. Doing nothing keeps the rules in force."
)
PROPOSAL_ROW = "<b>{date}</b>  {news}<br><i>In the game: {what}</i>"
PROPOSAL_ADOPT = "Adopt"
PROPOSAL_IGNORE = "Ignore"
PROPOSALS_MORE = "{n} more after these (adopt or ignore these first)"
PROPOSALS_NONE = "No step of history is waiting for your role."

# the world map
LEGEND_FLOWS = {
    "legal": "legal exports",
    "compliant": "compliant (downgraded) chips",
    "rented": "rented (cloud) compute",
    "smuggled": "smuggled chips",
}
LEGEND_SEIZED = "seized in transit"
LEGEND_TIER = "restricted / embargoed"
LEGEND_COMPUTE = "compute held (H100-equivalents)"
LEGEND_BLOCS = "blocs"
LEGEND_BLOC_NAMES = {"us": "US", "china": "China", "allies": "allies", "rest": "rest"}
MAP_ATTRIBUTION = "Made with Natural Earth"
SEIZED = "{chips} seized"  # chips: format.count()
