select 'it''s' as apostrophe,
  E'back\\slash' as backslash,
  '' as empty,
  '42' as number,
  'ünïcode' as unicode
