select '{{ uuidv4 }}' as id
