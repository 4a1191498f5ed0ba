"""English: the attributions, separators, header labels and client lines of English-language
mail clients (and of clients whose default strings are English whatever the language)."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="en",
    attributions=(
        P(
            r"(?:on|at)\s(?=.*[\d@<]).{1,250}?\b(?:wrote|writes|said|says)\s*:",
            "Gmail, Apple Mail, iOS Mail, Thunderbird, Yahoo, Proton, Fastmail, K-9, mutt",
            "On Tue, Nov 24, 2026 at 9:14 AM partnerbot <bot@vendor.example> wrote:",
        ),
        P(
            r"on\s.{1,100}?\bwrote\s*:",
            "clients that write the day without a date",
            "On Monday, partnerbot wrote:",
        ),
        P(
            r"in message\s.{1,250}?\bwrites\s*:",
            "nmh, exmh and other Usenet-style readers",
            "In message <20261224.1000@vendor.example>, partnerbot writes:",
        ),
        P(
            r".{1,200}?\bwrote on\s(?=.*\d).{1,160}:",
            "Lotus Notes / HCL Notes",
            "partnerbot <bot@vendor.example> wrote on 15/12/2026 08:00:00:",
        ),
        P(
            r"(?=.*\svia\s).{1,300}?\b(?:wrote|said)\s*:",
            "mailing lists and forums relaying a member's mail",
            "codinghorror via Discourse Meta wrote:",
        ),
        P(
            r"(?=.*[\w.+-]@[\w-]+\.\w).{1,300}?\bwrote\s*:",
            "Evolution, Claws Mail, Sylpheed (name and address, no date)",
            "Ann Lee <ann.lee@bluepeak.example> wrote:",
        ),
        P(
            r"quoting\s(?=.*[@<]).{1,300}:",
            "Horde IMP",
            "Quoting partnerbot <bot@vendor.example>:",
        ),
        P(
            r".{1,150}?\[\d{4}-\d\d-\d\d[^\]]{0,40}\]:",
            "mutt, NeoMutt ('* Name <addr> [date]:')",
            "* partnerbot <bot@vendor.example> [2026-12-28 09:00 +0000]:",
        ),
    ),
    bare_attributions=(
        P(
            r"posted by\s.{1,150}\son\s\d{1,2}/\d{1,2}/\d{4}",
            "forum digests",
            "Posted by mpalmer on 01/21/2026",
        ),
    ),
    separators=(
        P(
            r"original message",
            "Outlook, Exchange, Proton, Samsung Email",
            "-----Original Message-----",
        ),
        P(
            r"forwarded message",
            "Gmail, Thunderbird, Zimbra",
            "---------- Forwarded message ---------",
        ),
        P(r"reply message", "Android clients", "----- Reply message -----"),
        P(
            r"original",
            "Foxmail, QQ Mail (English UI)",
            "------------------ Original ------------------",
        ),
        P(
            r"forwarded by\s.{1,120}",
            "Lotus Notes",
            "----- Forwarded by Hannah Lowe/UK/LOWE on 01/12/2026 08:00 -----",
        ),
    ),
    forward_lines=(
        P(r"begin forwarded message\s*:", "Apple Mail, iOS Mail", "Begin forwarded message:"),
        P(r"forwarded message\s*:", "Superhuman, Spark", "Forwarded message:"),
    ),
    header_labels=(
        "From",
        "Sent",
        "Sent by",
        "To",
        "Cc",
        "Bcc",
        "Subject",
        "Date",
        "Reply-To",
        "Reply To",
    ),
    client_lines=(
        P(
            r"[(<]*sent (?:from|via|with|using|by) (?:my|a (?:mobile|phone|smartphone)|mobile|phone"
            r"|yahoo|outlook|mail|proton|protonmail|superhuman|samsung|galaxy|blackberry|aol|gmx"
            r"|zoho|airmail|spark|newton|polymail|mailbird|bluemail|edison|windows|android|iphone"
            r"|ipad|huawei|xiaomi|hey|fastmail|tutanota|gmail|icloud)\b(?:[^,;:<]|<[^<>]*>){0,60}?[)>]*",
            "iOS Mail, Yahoo, Samsung, BlackBerry, Proton, Superhuman, Mail for Windows",
            "Sent from my iPhone",
        ),
        P(
            r"sent from my android device with k-9 mail\..{0,40}",
            "K-9 Mail",
            "Sent from my Android device with K-9 Mail. Please excuse my brevity.",
        ),
        P(
            r"get outlook for\s.{1,60}",
            "Outlook for iOS and Android",
            "Get Outlook for iOS<https://aka.ms/o0ukef>",
        ),
        P(r"\w+ from (?:my )?mobile", "mobile signatures", "Nik from mobile"),
        P(
            r"from my (?:iphone|ipad|android|mobile|phone|galaxy|blackberry).{0,20}",
            "mobile signatures",
            "From my iPhone 6",
        ),
    ),
)
