"""Ordinary chat sentences the benchmarks send as ham (shared by bench_http and bench_synapse)."""

HAM = [
    "hey, are you around later?", "ok see you at 7", "thanks a lot!",
    "can you send me the slides from today", "lol that's hilarious",
    "running 10 min late, sorry", "did you finish the report?", "happy birthday!! \U0001f389",
    "where are we meeting tomorrow", "I'll call you after lunch", "sounds good to me",
    "what time does the train leave", "just landed, will text when I'm home",
    "can you pick up milk on the way", "good luck with the interview tomorrow",
    "the meeting moved to 3pm", "who's bringing the snacks on friday?",
    "nice, congrats on the new job", "I left my keys at your place I think",
    "do you want to grab coffee this week", "send me the address please",
    "my phone is almost dead, talk later", "haha yes exactly", "no worries at all",
    "is the game still on tonight", "did you see the email from Anna",
    "let's push the call to monday", "I'm at the station now", "got it, thanks",
    "can we split the bill for dinner", "the wifi password is on the fridge",
    "remember to water the plants", "that movie was so good",
    "are you coming to the party on saturday", "call me when you can",
    "I'll bring the charger", "kids are asleep finally", "omw",
]

MORE_HAM = [
    "how was the dentist?", "mum says hi", "I'm cooking pasta tonight, want some?",
    "the bus is stuck in traffic again", "did you book the tickets yet",
    "can you review my PR when you get a chance", "see you at the gym tomorrow morning",
    "which platform is it?", "I think it's going to rain this afternoon",
    "let me know when you're free to talk", "just finished the book, loved the ending",
    "yes, 8 works for me",
]

#: Links to well-known sites, as friends share them.
HAM_LINKED = [
    "have a look at this https://en.wikipedia.org/wiki/Octopus",
    "the repo is here https://github.com/python/cpython",
    "this song \U0001f602 https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "did you read this? https://www.bbc.co.uk/news/technology",
    "docs are at https://docs.python.org/3/library/asyncio.html",
    "here's the place https://maps.google.com/?q=central+station",
    "tickets: https://www.eventbrite.com/e/summer-concert",
    "shared the folder https://drive.google.com/drive/folders/abc123",
    "recipe for tonight https://www.nytimes.com/recipes/pasta",
    "this thread https://www.reddit.com/r/python/comments/xyz/",
]
