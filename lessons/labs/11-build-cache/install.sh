# Installs the packages a file lists, one "NAME VERSION" a line, into vendor/, as a package manager would,
# and as slowly: a real one downloads them, this one waits a second instead.
set -e
sleep 1
mkdir -p vendor
while read -r name version; do
  [ -n "$name" ] && echo "$name $version" >> vendor/installed
done < "$1"
