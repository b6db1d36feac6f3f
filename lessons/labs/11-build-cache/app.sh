# The app: the code that changes every day.
echo "hello from the app"
sed 's/^/using /' vendor/installed
