select {{ literal "it's" }} as apostrophe,
  {{ literal "back\\slash" }} as backslash,
  {{ literal "" }} as empty,
  {{ literal 42 }} as number,
  {{ literal "ünïcode" }} as unicode
