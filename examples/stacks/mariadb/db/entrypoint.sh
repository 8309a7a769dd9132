#!/bin/sh
# As the mariadb image's entrypoint does: make the data directory on first start, then run
# the server in the foreground (it drops to the mysql user itself). root logs in through the
# socket (unix_socket authentication), so `exec db mariadb` needs no password.
set -e
mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld /var/lib/mysql
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
  echo "mariadb-install-db: done"
fi
exec mariadbd --user=mysql --datadir=/var/lib/mysql --bind-address=0.0.0.0 --skip-name-resolve
