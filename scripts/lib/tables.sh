# Shared by the experiment scripts: numbers out of the JSON objects of performer eval, and table.json /
# table.md from a table.csv. Sourced, not run.

# field FILE KEY: a number from one of the JSON objects above
field() { sed -n "s/.*\"$2\": \([0-9.eE+-]*\).*/\1/p" "$1"; }

# tables DIR: DIR/table.json (an array of objects, numbers unquoted) and DIR/table.md (a markdown table:
# accuracies and other fractions to 3 decimals, larger numbers to 2, whole numbers and words as they are) from
# DIR/table.csv, whose first row names the columns
tables() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) key[i] = $i; next }
    { printf "%s{", (n++ ? ",\n  " : "[\n  ")
      for (i = 1; i <= NF; i++) printf "%s\"%s\": %s", (i > 1 ? ", " : ""), key[i],
        ($i ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ ? $i : "\"" $i "\"")
      printf "}" }
    END { print "\n]" }' "$1/table.csv" > "$1/table.json.tmp" && mv "$1/table.json.tmp" "$1/table.json"
  awk -F, 'NR == 1 { h = "|"; r = "|"; for (i = 1; i <= NF; i++) { c = $i; gsub(/_/, " ", c); h = h " " c " |"; r = r "---|" }
      print h; print r; next }
    { line = "|"; for (i = 1; i <= NF; i++) { v = $i
        if (v ~ /^-?[0-9]*\.[0-9]+$/) v = sprintf(v + 0 < 1 && v + 0 > -1 ? "%.3f" : "%.2f", v)
        line = line " " v " |" }
      print line }' "$1/table.csv" > "$1/table.md.tmp" && mv "$1/table.md.tmp" "$1/table.md"
}
