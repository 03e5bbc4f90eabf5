"""Attack templates, by attack and language (written for spimguard; data only).

``{a|b}`` picks one alternative, ``{link}`` is the campaign's link. The worm
lures read like a friend, on purpose: short, lower-case, no money words, so
that the text alone looks like chat and the links and behaviour must carry the
verdict. Stranger and botnet texts are the ordinary commercial kind, but worded
unlike the SMS corpus's spam the content model learned from.
"""

from __future__ import annotations

__all__ = ["BOTNET", "SLOW_WORM", "STRANGER", "WORM"]

#: The fast worm: sent to every contact within minutes.
WORM: dict[str, tuple[str, ...]] = {
    "en": (
        "lol is this you? {link}",
        "{omg|omg|wow} look what they posted about you {link}",
        "hey can you vote for my {niece|nephew|cousin|sister} {link} pls",
        "{haha|lmao} you're in this video {link}",
        "is that really you in {this pic|these photos|this clip}?? {link}",
        "{hey|hi} did you see this? {link}",
        "someone is spreading {this|these pics} of you {link}",
        "{ok|okay} who took this photo of you 😂 {link}",
    ),
    "ru": (
        "это ты на видео? {link}",
        "{смотри|глянь} что про тебя {пишут|выложили} {link}",
        "проголосуй пожалуйста за мою {племянницу|сестру|подругу} {link} 🙏",
        "ахаха ты тут {на фото|на видео} {link}",
        "{привет|прив}, это правда ты? {link}",
    ),
    "es": (
        "jaja eres tú en este video? {link}",
        "mira lo que publicaron de ti {link}",
        "oye vota por mi {sobrina|prima} porfa {link}",
    ),
    "de": (
        "bist du das auf dem foto? {link}",
        "schau mal was sie über dich gepostet haben {link}",
    ),
    "pt": (
        "kkk é você nesse vídeo? {link}",
        "vota na minha {sobrinha|prima} por favor {link}",
    ),
    "fr": (
        "mdr c'est toi sur cette vidéo ? {link}",
        "regarde ce qu'ils ont posté sur toi {link}",
    ),
}

#: The slow worm: one friend at a time, a little more personal.
SLOW_WORM: dict[str, tuple[str, ...]] = {
    "en": (
        "hey, could you check this doc for me? {link}",
        "{hi|hey}! is this your photo? found it here {link}",
        "need your vote pls, it's for my {sister|niece|friend} 🙏 {link}",
        "can you open this and tell me if it works for you {link}",
        "{remember|recall} this? {link} haha",
        "sent you the files here, let me know {link}",
    ),
    "ru": (
        "привет, глянь пожалуйста документ {link}",
        "это твоё фото? нашёл тут {link}",
        "можешь открыть и сказать работает ли у тебя? {link}",
        "скинул файлы сюда, посмотри {link}",
    ),
}

#: Stranger bots: young accounts writing to people who never added them.
STRANGER: dict[str, tuple[str, ...]] = {
    "en": (
        "{hi|hey|hello} {handsome|dear|there} 😘 saw your profile, {chat|talk} with me "
        "{here|on my page} {link}",
        "{Hi|Hello}, I {made|earned} {$2,300|$4,100|$870} this week {trading|with crypto signals}, "
        "my mentor {shows|teaches} everyone for free {link}",
        "{Remote job|Part-time work}: {$300|$450|$600} per day, {only|just} a phone needed. "
        "{Details|Apply}: {link}",
        "hey {stranger|friend}, {lonely|bored} tonight? {my photos|my private pics} "
        "{here|inside} {link}",
        "{Congrats|Congratulations}, your number was picked for {an airdrop|a free NFT|a bonus}, "
        "connect your wallet {link}",
    ),
    "ru": (
        "привет, {видела|увидела} твой профиль 😊 {пиши|напиши} мне {тут|здесь} {link}",
        "{Подработка|Удалённая работа} {от 3000|до 8000} ₽ в день, нужен только телефон {link}",
        "Заработал {45 000|120 000} ₽ за неделю на {сигналах|крипте}, {бесплатное обучение|"
        "инструкция} тут {link}",
    ),
}

#: Botnet: one campaign, many throwaway senders, every copy mutated.
BOTNET: dict[str, tuple[str, ...]] = {
    "en": (
        "{Congrats|Congratulations|Good news}! You {were|have been} {selected|chosen|picked} "
        "for {a $500|a 1000 USDT|an iPhone 15} {gift|bonus|reward}. {Claim|Collect|Get} it "
        "{here|now|today}: {link}",
        "{Last chance|Final reminder|Only today}: your {reward|gift card|bonus} {expires|ends} "
        "{tonight|in 2 hours}, {claim|confirm} {at|via} {link}",
        "{Your|This} account {qualifies|is eligible} for a {free|bonus} {giveaway|payout}, "
        "{verify|confirm} {here|now} {link}",
    ),
    "ru": (
        "{Поздравляем|Ура}! Вы {выиграли|получили} {приз|подарок|бонус} {5000 ₽|10 000 руб.}. "
        "{Забрать|Получить}: {link}",
        "{Последний шанс|Только сегодня}: ваш {бонус|подарок} {сгорает|истекает} "
        "{сегодня|через 2 часа}, {подтвердите|заберите} {link}",
    ),
}
