"""The head of the small policies the language tests write: a points policy of 2024 and the
notice its quotes cite (the notice's text is not there: W130 where a test checks it)."""

DEMO_HEAD = """\
policy demo version "2024"
  effective 2024-01-01 to 2024-12-31
  method points

document notice "示例DRG付费细则"
  issuer "示例市医疗保障局"
  number "示例〔2024〕1号"
  date 2024-01-01
  status in_force
  text "notice.txt"

"""
