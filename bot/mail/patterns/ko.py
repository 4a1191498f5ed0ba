"""Korean."""

# ruff: noqa: RUF001 - letters and punctuation of other scripts are the data here

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="ko",
    attributions=(
        P(
            r"(?=.*\d).{1,400}?님이\s*작성\s*[:：]",
            "Gmail",
            "2026년 11월 24일 (화) 오후 5:14, partnerbot <bot@vendor.example>님이 작성:",
        ),
    ),
    separators=(
        P(r"원본 (?:메시지|메일)", "Outlook, Samsung Email", "-----원본 메시지-----"),
        P(r"전달된 메시지", "Gmail, Naver", "---------- 전달된 메시지 ---------"),
    ),
    forward_lines=(P(r"전달된 메시지\s*[:：]", "Apple Mail, iOS Mail", "전달된 메시지:"),),
    header_labels=("보낸 사람", "보낸 날짜", "받는 사람", "참조", "제목", "날짜"),
    client_lines=(
        P(r"[^,;:]{1,30}에서 보냄", "iOS Mail, Samsung", "나의 iPhone에서 보냄"),
        P(
            r".{1,20}용 outlook 받기.{0,60}",
            "Outlook for iOS and Android",
            "iOS용 Outlook 받기<https://aka.ms/o0ukef>",
        ),
    ),
)
